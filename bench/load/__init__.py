"""The load test: `make load` (bench/load/run.py)."""
