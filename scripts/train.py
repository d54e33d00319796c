"""Runs `tfgan-train` from a checkout: see tfgan/cli/train.py."""

import _checkout  # noqa: F401  (this checkout's tfgan first)
from tfgan.cli.entry_points import train

if __name__ == "__main__":
    train()
