"""Runs `tfgan-train` from a checkout: see tfgan/cli/train.py."""

from tfgan.cli.train import run

if __name__ == "__main__":
    run()
