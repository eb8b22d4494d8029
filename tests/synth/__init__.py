"""Synthetic footage and the tiny CLIP test model trained on it."""
