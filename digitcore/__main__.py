"""`python -m digitcore` runs the command-line interface."""

import sys

from digitcore.cli import main

sys.exit(main())
