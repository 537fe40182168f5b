"""Allow ``python -m integration_models <command>``."""

import sys

from integration_models.cli import main

sys.exit(main())
