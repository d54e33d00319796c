"""Runs the metrics classifier's training from a checkout: see tfgan/cli/train_classifier.py."""

import _checkout  # noqa: F401  (this checkout's tfgan first)
from tfgan.cli.train_classifier import run

if __name__ == "__main__":
    run()
