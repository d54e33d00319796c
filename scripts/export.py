"""Runs `tfgan-export` from a checkout: see tfgan/cli/export.py."""

from tfgan.cli.export import run

if __name__ == "__main__":
    run()
