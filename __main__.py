"""``python -m smasim``: the command line."""

import sys

from smasim.cli import main

sys.exit(main())
