"""Surrogate models (device gm/Id networks, circuit surrogates): not built yet."""
