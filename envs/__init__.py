"""Gymnasium environments (ngspice) and the shared observation/reward definition.

Importing ``envs`` registers the ids ``jaxsizer/<circuit>-<tech>-v0|v1`` (see
``envs.registration``); it imports neither JAX nor ngspice.
"""

from envs.registration import register_envs

register_envs()
