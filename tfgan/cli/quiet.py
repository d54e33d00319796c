"""Holds back TensorFlow's C++ start-up log lines so a command's own output stays readable.

Importing TensorFlow and probing for GPUs prints a dozen lines (oneDNN, CUDA stubs, CPU
features) straight to file descriptor 2, before any Python logging setting can apply. The
command-line tools import TensorFlow through here: the lines are captured and shown only if
the import fails, or always when `TFGAN_TF_LOGS=1`.
"""

import os
import sys
import tempfile


def import_tensorflow_quietly():
    """Imports TensorFlow and initialises its devices with stderr held back."""
    if "tensorflow" in sys.modules or os.environ.get("TFGAN_TF_LOGS") == "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved_stderr, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
