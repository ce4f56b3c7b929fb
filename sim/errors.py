"""Exceptions raised at the user boundary.

Inside simulation loops failures are values (see ``sim.result.Status``); these
exceptions are for bad input that a user must fix, and the CLI turns them into
one clear line and exit code 2.
"""


class UserInputError(ValueError):
    """Bad input from the user: unknown names, malformed files, out-of-range values."""
