"""Analyses built on the pipeline: each takes an instance and returns plain data and tables."""
