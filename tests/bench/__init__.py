"""reelseek's benchmarks (not tests): `python -m tests.bench`, see docs/benchmarks.md."""
