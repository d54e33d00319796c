"""Runs `tfgan-serve` from a checkout: see tfgan/cli/serve.py."""

import _checkout  # noqa: F401  (this checkout's tfgan first)
from tfgan.cli.entry_points import serve

if __name__ == "__main__":
    serve()
