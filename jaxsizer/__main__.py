"""``python -m jaxsizer``: the ``jaxsizer`` command (``jaxsizer.command``)."""

import sys

from jaxsizer.command import main

if __name__ == "__main__":
    sys.exit(main())
