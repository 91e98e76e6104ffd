"""``python -m bridge``: the ``soapbridge`` command line."""

import sys

from .cli import main

sys.exit(main())
