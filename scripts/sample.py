"""Runs `tfgan-sample` from a checkout: see tfgan/cli/sample.py."""

from tfgan.cli.sample import run

if __name__ == "__main__":
    run()
