"""DIAM."""
