"""Runs `tfgan-sample` from a checkout: see tfgan/cli/sample.py."""

import _checkout  # noqa: F401  (this checkout's tfgan first)
from tfgan.cli.entry_points import sample

if __name__ == "__main__":
    sample()
