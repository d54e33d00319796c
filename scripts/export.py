"""Runs `tfgan-export` from a checkout: see tfgan/cli/export.py."""

import _checkout  # noqa: F401  (this checkout's tfgan first)
from tfgan.cli.entry_points import export

if __name__ == "__main__":
    export()
