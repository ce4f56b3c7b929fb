"""What sits on top of the simulation core: the bodies of ``python -m sim``'s
commands and the tools around a sized design.

``bench``, ``explore``, ``plot``, ``corners`` and ``specs_report`` are the
``python -m sim bench|explore|plot|corners|specs`` commands (``sim.cli``
parses their flags, ``cli_handlers`` runs each command on the parsed flags);
``report`` prints result tables; ``export`` writes a sized design as files a
designer runs with ``ngspice -b``; ``server``
(``python -m sim.commands.server``) serves simulations over HTTP. Nothing
below imports this package.
"""
