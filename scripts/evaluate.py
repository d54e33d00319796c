"""Runs `tfgan-evaluate` from a checkout: see tfgan/cli/evaluate.py."""

import _checkout  # noqa: F401  (this checkout's tfgan first)
from tfgan.cli.evaluate import run

if __name__ == "__main__":
    run()
