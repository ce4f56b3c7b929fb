"""The simulation store: every simulated design, keyed by its content.

``store.SimulationStore`` (SQLite under ``$JAXSIZER_HOME``) answers a design
simulated before without ngspice; ``store_export`` (``python -m
sim.storage.store_export``) writes the store as one CSV or Parquet table.

Imports only the top of ``sim``.
"""
