"""How every command-line tool reports a user error: one line on stderr, a non-zero status."""

import os
import sys

USAGE = 2  # bad flags, options or input files: nothing was done
FAILURE = 1  # the work itself failed (data unreachable, version exists, server down)


def fail(message, status=USAGE):
    """Prints `error: <message>` on stderr and exits with `status`."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def describe(error):
    """An `OSError` or TensorFlow `OpError` in one line: `run/losses.png: No space left on
    device`."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    text = getattr(error, "message", None) or str(error)
    return " ".join(text.strip().splitlines()[0].split()) if text.strip() else type(error).__name__


def require_existing(flag, path, expected, directory=False):
    """Exits with status 2 unless `path`, the value of `--<flag>`, exists.

    Args:
        flag: str, the flag's name.
        path: str, its value.
        expected: str, what the flag takes, for the message.
        directory: bool, `path` must be a directory. Defaults to `False`.
    """
    if not path:
        fail(f"--{flag} is required: {expected}")
    if not os.path.exists(path):
        fail(f"--{flag}={path}: no such file or directory; expected {expected}")
    if directory and not os.path.isdir(path):
        fail(f"--{flag}={path} is not a directory; expected {expected}")
