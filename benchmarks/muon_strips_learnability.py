"""Learnability of the generated ``muon_strips`` images (dse.training.generators): a small QKeras CNN
and a QKeras MLP trained on 4x64 and 9x64 hit maps (6,000 images, 5 track-slope bins, noise 0.01,
efficiency 0.95, seed 0; split 60/20/20), against chance (0.2) and against the best a track fit can
do (the noiseless, fully efficient images' least-squares slope, binned).

CNN: QConv2D 4 filters of (layers x 5) spanning all layers, ReLU, MaxPool (1, 4), Flatten, QDense 16,
ReLU, QDense 5 (8-bit weights, 8-bit activations). MLP: QDense 32, ReLU, QDense 5 on the flattened
image. Adam at 0.005, batch 64, 12 epochs, one thread, ``standardize: false`` (hits stay 1).
Prints validation accuracies and writes benchmarks/results/muon_strips_learnability.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from dse.space import GeneratorConfig, parse_space_text  # noqa: E402
from dse.training.data import load_dataset  # noqa: E402
from dse.training.generators import muon_strips  # noqa: E402

EPOCHS = 12


def fit_limit(layers: int) -> float:
    """Accuracy of the binned least-squares slope of noiseless, fully efficient images."""
    cfg = GeneratorConfig(layers=layers, samples=6000, noise=0.0, efficiency=1.0)
    x, y, _ = muon_strips(cfg)
    strip = x[..., 0].argmax(axis=2).astype(float)
    slope = np.polyfit(np.arange(layers), strip.T, 1)[0]
    pred = np.clip(((slope + cfg.max_slope) / (2 * cfg.max_slope / cfg.angle_bins)).astype(int), 0,
                   cfg.angle_bins - 1)
    return float((pred == y).mean())


def main() -> None:
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    q = quantized_bits(8, 2, alpha=1)
    results = []
    for layers in (4, 9):
        space = parse_space_text(f"""
data: {{source: generator, name: muon_strips, standardize: false, generator: {{layers: {layers}, samples: 6000}}}}
model: {{hidden_layers: 1, width: 8}}
quantization: {{weight_bits: 8, activation_bits: 8}}
hardware: {{part: xcvu9p-flga2104-2L-e}}
objectives: [accuracy]
""")
        data = load_dataset(space.data)
        row: dict[str, object] = {"images": f"{layers}x64x1", "n_train": len(data.x_train), "chance": 0.2,
                                  "track_fit_limit": round(fit_limit(layers), 3)}
        for kind in ("cnn", "mlp"):
            tf.keras.utils.set_random_seed(0)
            if kind == "cnn":
                inputs = tf.keras.Input(data.input_shape)
                x = QActivation(quantized_relu(8, 3))(QConv2D(4, (layers, 5), kernel_quantizer=q, bias_quantizer=q)(
                    inputs))
                x = tf.keras.layers.Flatten()(tf.keras.layers.MaxPooling2D((1, 4))(x))
            else:
                inputs = tf.keras.Input((data.n_features,))
                x = inputs
            x = QActivation(quantized_relu(8, 3))(QDense(16 if kind == "cnn" else 32, kernel_quantizer=q,
                                                         bias_quantizer=q)(x))
            model = tf.keras.Model(inputs, QDense(data.n_classes, kernel_quantizer=q, bias_quantizer=q)(x))
            model.compile(tf.keras.optimizers.Adam(0.005),
                          tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            shape = model.input_shape[1:]
            xs = [a.reshape(len(a), *shape) for a in (data.x_train, data.x_val)]
            start = time.perf_counter()
            model.fit(xs[0], data.y_train, epochs=EPOCHS, batch_size=64, verbose=0)
            acc = float((np.asarray(model(xs[1])).argmax(axis=1) == data.y_val).mean())
            row[kind] = {"val_accuracy": round(acc, 3), "parameters": int(model.count_params()),
                         "train_seconds": round(time.perf_counter() - start, 1)}
        print(json.dumps(row))
        results.append(row)
    out = ROOT / "benchmarks" / "results" / "muon_strips_learnability.json"
    out.write_text(json.dumps({"epochs": EPOCHS, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
