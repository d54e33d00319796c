"""How every command-line tool reports a user error: one line on stderr, a non-zero status."""

import sys

USAGE = 2  # bad flags or options: nothing was done
FAILURE = 1  # the work itself failed (data unreachable, version exists, server down)


def fail(message, status=USAGE):
    """Prints `error: <message>` on stderr and exits with `status`."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)
