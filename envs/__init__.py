"""Gymnasium and pure-JAX environments: not built yet."""
