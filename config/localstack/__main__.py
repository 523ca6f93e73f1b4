"""``python -m config.localstack up|down|status [--json]``."""

import sys

from . import main

sys.exit(main())
