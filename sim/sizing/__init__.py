"""A sizing problem and its simulator: designs in, checked figures out.

``simulator.Simulator`` renders designs (``sim.format``), runs them on a
backend (``sim.engine``) and keeps them in the store (``sim.storage``);
``problem.SizingProblem`` is the problem as arrays every layer reads
(``parameter_space``: the ``[-1, 1]`` action mapping); ``session`` opens a
problem and its simulator from command-line options or an env id;
``sampling`` draws random designs; ``target_text`` reads a user's targets.
"""
