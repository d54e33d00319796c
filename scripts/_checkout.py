"""Makes `python scripts/<tool>.py` import this checkout's `tfgan`, installed or not.

Imported first by every script: the checkout's directory goes to the front of `sys.path`, so
a script runs the code beside it even where another copy of tfgan is installed (an editable
install of another worktree, or a released package), and a fresh clone runs its scripts with
only the dependencies installed.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
