"""Command-line tools (absl flags): train, export, serve, sample, evaluate, train-classifier.

`tfgan.cli.entry_points` holds the console scripts that run them.
"""
