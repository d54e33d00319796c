"""Runs the metrics classifier's training from a checkout: see tfgan/cli/train_classifier.py."""

import _checkout  # noqa: F401  (this checkout's tfgan first)
from tfgan.cli.entry_points import train_classifier

if __name__ == "__main__":
    train_classifier()
