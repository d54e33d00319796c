"""The console scripts (`tfgan-train`, ...): each holds back TensorFlow's start-up log lines,
then imports its tool's module and runs it.

Importing a tool's module imports TensorFlow, so the lines are held back here, before that
import, and not as a side effect of importing `tfgan.cli`.
"""

import importlib

from tfgan.cli.quiet import import_tensorflow_quietly


def _tool(module):
    """The entry point that runs `tfgan.cli.<module>.run()`."""

    def run():
        import_tensorflow_quietly()
        importlib.import_module(f"tfgan.cli.{module}").run()

    run.__doc__ = f"Runs `tfgan.cli.{module}` with TensorFlow's start-up lines held back."
    return run


train = _tool("train")
export = _tool("export")
serve = _tool("serve")
sample = _tool("sample")
evaluate = _tool("evaluate")
train_classifier = _tool("train_classifier")
