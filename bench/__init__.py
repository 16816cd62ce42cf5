"""Benchmarks and the data generator behind ``make bench`` (see docs/scaling.md).

Each benchmark measures the real app against a baseline taken in the same run on the
same machine, because shared machines are noisy and an absolute time alone says little.
"""
