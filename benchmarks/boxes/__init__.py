"""Foreign target boxes: user circuits whose boxes come from published work.

Each directory below is a user circuit (``circuit.yaml`` + SPICE templates)
whose ``specs:`` box is taken from a published benchmark, cited in its
README, never cut by ``python -m sim specs --propose``; ``box.json`` holds
its technology and measured feasibility ceiling (``registry``).
``python -m benchmarks boxes`` runs a method on every box (``command``).
"""
