"""Runs `tfgan-evaluate` from a checkout: see tfgan/cli/evaluate.py."""

import _checkout  # noqa: F401  (this checkout's tfgan first)
from tfgan.cli.entry_points import evaluate

if __name__ == "__main__":
    evaluate()
