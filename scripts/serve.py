"""Runs `tfgan-serve` from a checkout: see tfgan/cli/serve.py."""

from tfgan.cli.serve import run

if __name__ == "__main__":
    run()
