"""Command-line entry points (absl flags): train, export, serve, sample."""
