"""Runs `tfgan-train` from a checkout: see tfgan/cli/train.py."""

import _checkout  # noqa: F401  (this checkout's tfgan first)
from tfgan.cli.train import run

if __name__ == "__main__":
    run()
