"""reelseek.core: the engine (scan, decode, embed, store, search). Never imports Qt or vlc."""

__version__ = "0.1.0"
