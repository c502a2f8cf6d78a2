"""Benchmarks for Row by Row (run them, never time them in tests)."""
