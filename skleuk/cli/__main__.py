"""``python -m skleuk.cli``: the ``skleuk`` command."""

import sys

from . import main

sys.exit(main())
