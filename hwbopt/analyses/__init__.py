"""Analyses over solved plans: compare options, explain a plan, stress batches."""
