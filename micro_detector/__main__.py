"""`python -m micro_detector ...` is the `micro-detector` command."""

import sys

from .cli import main

sys.exit(main())
