"""tfgan: train GANs with TensorFlow 2 / Keras 3, export them for TF Serving, serve samples.

From Python (a notebook), in Keras' idiom (README.md, "Use from Python"):

```python
import tfgan

config = tfgan.presets.config("gaussian_1d", steps=200, workdir="runs/notebook")
gan, workdir = tfgan.train(config)  # a keras.Model; `gan.fit(dataset)` trains more
tfgan.sample_figure(gan, num_samples=1000)  # a matplotlib figure, shown inline
tfgan.export_gan(gan, "export", "gaussian_1d", config=config)  # export/gaussian_1d/1
```

The names below load their modules, and TensorFlow, on first use: `import tfgan` alone
imports nothing heavy and has no side effect, so a command-line tool can hold TensorFlow's
start-up lines back before TensorFlow loads (its console scripts do).
"""

import importlib

__version__ = "0.1.0"

# Public name -> the module that defines it (`None`: the name is the module `tfgan.<name>`).
_PUBLIC = {
    "GAN": "tfgan.gan",
    "TrainConfig": "tfgan.config",
    "train": "tfgan.training",
    "load_data": "tfgan.training",
    "load_run": "tfgan.training",
    "export_gan": "tfgan.training",
    "sample_figure": "tfgan.notebook",
    "callbacks": None,
    "presets": None,
}


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'tfgan' has no attribute {name!r}")
    if _PUBLIC[name] is None:
        return importlib.import_module(f"tfgan.{name}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)


def __dir__():
    return sorted([*globals(), *_PUBLIC])
