"""Benchmarking: one timed run of the real pipeline, stage statistics, synthetic frames, system info, the report."""
