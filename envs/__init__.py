"""Gymnasium environments (ngspice) and the shared observation/reward definition.

Importing ``envs`` registers the ids ``jaxsizer/<circuit>-<tech>-<space>-v0``
(``geometric``, ``electrical``, ``autockt``, ``surrogate``; see
``envs.registration``); it imports neither JAX nor ngspice.
"""

from envs.registration import register_envs

register_envs()
