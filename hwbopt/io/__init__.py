"""Reading and writing instances and results."""
