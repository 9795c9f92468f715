"""Benchmarks: each measures the project against a baseline run in the same process."""
