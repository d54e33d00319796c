"""Shared test set-up: quiet TensorFlow, CPU only, headless matplotlib, single-threaded BLAS."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MPLBACKEND", "Agg")
# Multi-threaded OpenBLAS is 5-80x slower on a loaded 2-core machine for the metric tests' small
# matrix products.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
