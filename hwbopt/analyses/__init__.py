"""Analyses built on the pipeline: compare options, explain a plan, sum up stress batches.

Each takes an instance (or a batch's results) and returns plain data and tables.
"""
