"""Benchmarks: jaxsizer beside the field's baselines (``python -m benchmarks``)."""
