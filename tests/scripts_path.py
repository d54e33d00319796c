"""Lets tests import the checkout's script modules (`import check_conditional`).

The tools that tests and scripts share (the sample page's headless Chromium, the conditional
acceptance routes) live once, in `scripts/`; importing this module puts that folder at the end
of `sys.path`, after everything else, so no script shadows an installed module.
"""

import os
import sys

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts")
if SCRIPTS not in sys.path:
    sys.path.append(SCRIPTS)
