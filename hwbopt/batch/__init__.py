"""Stress batches: sample, compile once, solve warm per worker, store as Parquet."""
