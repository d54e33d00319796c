"""Runs `tfgan-evaluate` from a checkout: see tfgan/cli/evaluate.py."""

from tfgan.cli.evaluate import run

if __name__ == "__main__":
    run()
