"""``python -m excolor.report …`` (see `excolor.report.cli`)."""

import sys

from excolor.report.cli import main

sys.exit(main())
