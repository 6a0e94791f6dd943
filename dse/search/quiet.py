"""A clean terminal: keep TensorFlow, absl, Keras and Ray start-up noise off stderr unless ``--verbose``.

TensorFlow's C++ logging (cuDNN/cuFFT/cuBLAS registration, CUDA and TensorRT probes, CPU feature
notes) reads ``TF_CPP_MIN_LOG_LEVEL`` once, when the library loads, so :func:`quiet_process` must
run before any TensorFlow import: the CLI calls it first thing, and Ray workers get the same
variables through their ``runtime_env`` (:func:`worker_env`). Variables the user already set are
kept. Python-side noise (Keras/QKeras/hls4ml ``UserWarning``, absl and Ray loggers) is filtered
in the process.
"""

from __future__ import annotations

import logging
import os
import warnings

__all__ = ["NOISY_LOGGERS", "QUIET_ENV", "quiet_process", "ray_init_options", "worker_env"]

QUIET_ENV: dict[str, str] = {
    "TF_CPP_MIN_LOG_LEVEL": "3",        # TensorFlow C++: no INFO/WARNING/ERROR lines (Python errors still raise)
    "GRPC_VERBOSITY": "ERROR",
    "GLOG_minloglevel": "2",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_DEDUP_LOGS": "1",
    "PYTHONWARNINGS": "ignore",         # for child processes (Ray workers); this process uses the filters below
}
"""Environment that silences the libraries' own logging; set with ``setdefault`` (the user's values win)."""

NOISY_LOGGERS = ("tensorflow", "absl", "h5py", "matplotlib", "ray", "hls4ml", "qkeras", "numba", "jax")
_verbose = False
"""Set by :func:`quiet_process`; the default of :func:`worker_env` and :func:`ray_init_options`."""
_NOISY_MODULES = r"(keras|tf_keras|tensorflow|tensorflow_model_optimization|qkeras|hls4ml|absl|h5py|ray|numpy)(\.|$)"


def quiet_process(verbose: bool = False) -> None:
    """Quiet this process (and the processes it starts) unless ``verbose``. Call before importing TensorFlow."""
    global _verbose
    _verbose = verbose
    if verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        return
    for key, value in QUIET_ENV.items():
        if key == "PYTHONWARNINGS":
            continue  # would also hide dse's own warnings in this process
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore", module=_NOISY_MODULES)
    warnings.filterwarnings("ignore", message=r".*HDF5 file via `model\.save\(\)`.*")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:  # absl's handler prints "W0000 ..." lines before logging is configured; only if absl is installed
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
        absl.logging.set_stderrthreshold("error")
    except ImportError:
        pass


def worker_env(verbose: bool | None = None) -> dict[str, str]:
    """Environment variables for Ray workers (``runtime_env={"env_vars": ...}``); ``verbose`` defaults
    to what :func:`quiet_process` was told."""
    verbose = _verbose if verbose is None else verbose
    env = {k: os.environ.get(k, v) for k, v in QUIET_ENV.items()}
    if verbose:
        env["TF_CPP_MIN_LOG_LEVEL"] = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "1")
        env.pop("PYTHONWARNINGS", None)
    return env


def ray_init_options(verbose: bool | None = None, local: bool = True) -> dict[str, object]:
    """Keyword arguments for ``ray.init``: worker output forwarded only when verbose, Ray's driver logger
    at ERROR when quiet (it is set up before Ray's start-up notices, e.g. "Token authentication is
    enabled", so they stay off the terminal). ``local`` is kept for callers that join a cluster."""
    verbose = _verbose if verbose is None else verbose
    del local
    return {"log_to_driver": verbose, "logging_level": logging.INFO if verbose else logging.ERROR}
