"""`python -m gru_bif.cli ...`: the `gru-bif` command."""

import sys

from . import main

sys.exit(main())
