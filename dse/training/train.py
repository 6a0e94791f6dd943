"""Quantization-aware training with pruning, and evaluation. Imports TensorFlow when called."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dse.design.candidate import Candidate
from dse.space import SpaceConfig
from dse.training.data import Dataset, as_model_input

log = logging.getLogger(__name__)

# Called after every epoch with (epoch, val_accuracy); returns True to stop (pruned trial).
EpochReporter = Callable[[int, float], bool]

_threads_set = False


def configure_tensorflow(threads: int) -> None:
    """Cap TensorFlow's thread pools (call before the first TF op in this process)."""
    global _threads_set
    import tensorflow as tf

    if _threads_set:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, threads))
    except RuntimeError:  # already initialised in this process
        pass
    _threads_set = True


@dataclass
class TrainResult:
    model: Any  # the stripped, trained Keras model
    val_accuracy: float
    val_loss: float
    test_accuracy: float
    val_auc: float | None
    epochs_run: int
    train_seconds: float
    pruned: bool = False
    history: dict[str, list[float]] = field(default_factory=dict)
    weight_sparsity: dict[str, float] = field(default_factory=dict)
    """Measured fraction of exactly-zero (quantized) kernel weights per weighted layer."""


def model_input_shape(cand: Candidate, data: Dataset) -> tuple[int, ...]:
    """The sample shape ``cand``'s model takes: the data's own (``data.input_shape``), flattened to
    ``(data.n_features,)`` when the first layer is dense (an MLP, also on images or sequences)."""
    if cand.layers and cand.layers[0].KIND == "dense":
        return (data.n_features,)
    return data.input_shape


def train_candidate(cand: Candidate, space: SpaceConfig, data: Dataset, seed: int,
                    reporter: EpochReporter | None = None, want_auc: bool = False) -> TrainResult:
    """Build, prune-train and evaluate ``cand``. Seeded with ``seed``."""
    import tensorflow as tf

    from dse.training.model_builder import apply_pruning, build_model, pruning_done_epoch, strip_pruning

    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(seed)
    t = space.training
    steps_per_epoch = max(1, math.ceil(len(data.x_train) / t.batch_size))
    shape = model_input_shape(cand, data)
    x_train, x_val, x_test = (as_model_input(x, shape) for x in (data.x_train, data.x_val, data.x_test))
    model = build_model(cand, space, shape, data.n_classes)
    model = apply_pruning(model, cand, space, steps_per_epoch, t.epochs)
    optimizer = {"adam": tf.keras.optimizers.Adam, "sgd": tf.keras.optimizers.SGD,
                 "rmsprop": tf.keras.optimizers.RMSprop}[t.optimizer](learning_rate=cand.learning_rate)
    sigmoid = space.model.output_activation == "sigmoid"
    loss = ("binary_crossentropy" if sigmoid else
            tf.keras.losses.SparseCategoricalCrossentropy(from_logits=space.model.output_activation == "linear"))
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])

    callbacks: list[Any] = []
    if any(s > 0 for s in cand.sparsity):
        import tensorflow_model_optimization as tfmot

        callbacks.append(tfmot.sparsity.keras.UpdatePruningStep())
    done_epoch = pruning_done_epoch(space, steps_per_epoch, t.epochs) if any(s > 0 for s in cand.sparsity) else 0
    if t.early_stopping_patience is not None:
        # Only judge (and restore) epochs after pruning reached its final sparsity.
        callbacks.append(tf.keras.callbacks.EarlyStopping(
            monitor="val_accuracy", mode="max", patience=t.early_stopping_patience,
            restore_best_weights=True, start_from_epoch=done_epoch))
    stopped = {"pruned": False}
    if reporter is not None:
        report = reporter

        class _Reporter(tf.keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
                acc = float((logs or {}).get("val_accuracy", float("nan")))
                if report(epoch, acc):
                    stopped["pruned"] = True
                    self.model.stop_training = True

        callbacks.append(_Reporter())

    y_train = data.y_train.astype(np.float32) if sigmoid else data.y_train
    y_val = data.y_val.astype(np.float32) if sigmoid else data.y_val
    start = time.perf_counter()
    hist = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=t.epochs,
                     batch_size=t.batch_size, callbacks=callbacks, verbose=0)
    train_seconds = time.perf_counter() - start
    model = strip_pruning(model)
    # Direct eager calls: no predict()/evaluate() graph tracing per trial (that cost ~0.5 s a trial).
    val_prob = probabilities(model, x_val, space.model.output_activation)
    test_prob = probabilities(model, x_test, space.model.output_activation)
    val_acc = accuracy(val_prob, data.y_val)
    test_acc = accuracy(test_prob, data.y_test)
    val_loss = cross_entropy(val_prob, data.y_val)
    auc = roc_auc(val_prob, data.y_val, data.n_classes) if want_auc else None
    return TrainResult(
        model=model, val_accuracy=val_acc, val_loss=val_loss, test_accuracy=test_acc, val_auc=auc,
        epochs_run=len(hist.history.get("loss", [])), train_seconds=train_seconds, pruned=stopped["pruned"],
        history={k: [float(v) for v in vs] for k, vs in hist.history.items()},
        weight_sparsity=measured_sparsity(model, cand, space),
    )


def probabilities(model: Any, x: np.ndarray, output_activation: str, batch: int = 4096) -> np.ndarray:
    """Class probabilities of ``model`` on ``x`` (softmax applied to logits of a linear output)."""
    parts = [np.asarray(model(x[i:i + batch], training=False)) for i in range(0, len(x), batch)]
    out = np.concatenate(parts) if parts else np.zeros((0, 1))
    if output_activation == "linear":
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    return out


def cross_entropy(prob: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy (nats) of probabilities against integer labels (binary for one column)."""
    eps = 1e-7
    if prob.ndim == 1 or prob.shape[1] == 1:
        p = np.clip(prob.ravel(), eps, 1 - eps)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return float(-np.mean(np.log(np.clip(prob[np.arange(len(y)), y], eps, 1.0))))


def accuracy(prob: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of class probabilities (or of a single sigmoid output) against labels."""
    pred = (prob.ravel() > 0.5).astype(int) if prob.ndim == 1 or prob.shape[1] == 1 else prob.argmax(axis=1)
    return float((pred == y).mean())


def roc_auc(prob: np.ndarray, y: np.ndarray, n_classes: int) -> float:
    from sklearn.metrics import roc_auc_score

    if prob.ndim == 1 or prob.shape[1] == 1:
        return float(roc_auc_score(y, prob.ravel()))
    if n_classes == 2:
        return float(roc_auc_score(y, prob[:, 1]))
    return float(roc_auc_score(y, prob, multi_class="ovr"))


def measured_sparsity(model: Any, cand: Candidate, space: SpaceConfig) -> dict[str, float]:
    """Fraction of kernel weights that are exactly zero after quantization, per weighted layer."""
    out: dict[str, float] = {}
    for name in cand.weighted_names:
        layer = model.get_layer(name)
        kernel = layer.get_weights()[0]
        quantizer = getattr(layer, "kernel_quantizer_internal", None)
        q = np.asarray(quantizer(kernel)) if quantizer is not None else kernel
        out[name] = float(np.mean(q == 0))
    return out
