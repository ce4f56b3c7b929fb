"""Gymnasium environments (ngspice) and the shared observation/reward definition.

Importing ``envs`` registers the ids ``jaxsizer/<circuit>-<tech>-v1``.
"""

from envs.registration import register_envs

register_envs()
