"""Human-readable views of results."""
