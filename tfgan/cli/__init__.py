"""Command-line entry points (absl flags): train, export, serve, sample."""

from tfgan.cli.quiet import import_tensorflow_quietly

import_tensorflow_quietly()
