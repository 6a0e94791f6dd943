"""Image data through training and the test bench: an MLP space trains on digits as 8x8x1 images (the
MLP flattens them), the generated muon strip images are learnable, and ``tb_data/`` of an image model
holds one flat line per sample in the order hls4ml's C++ reads (its ``compile()``+``predict`` and its
own test bench, built with g++, reproduce the Keras outputs from it)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from dse.design.candidate import Candidate
from dse.space import parse_space_text
from dse.training.data import flat, load_dataset
from tests.helpers import quickstart_dict

pytestmark = pytest.mark.slow  # imports TensorFlow and trains

ROOT = Path(__file__).resolve().parents[2]


def _space(data: dict[str, Any], epochs: int = 4) -> Any:
    d = quickstart_dict()
    d["training"]["epochs"] = epochs
    d["training"]["early_stopping"] = False
    d["data"] = data
    return parse_space_text(yaml.safe_dump(d))


def _mlp(widths: tuple[int, ...] = (24,)) -> Candidate:
    n = len(widths)
    return Candidate.mlp(widths=widths, weight_bits=(8,) * (n + 1), bias_bits=(8,) * (n + 1),
                         activation_bits=(8,) * n, sparsity=(0.0,) * (n + 1), reuse_factor=(1,) * (n + 1),
                         strategy="latency", learning_rate=0.01)


def _threads() -> None:
    from dse.training.train import configure_tensorflow

    configure_tensorflow(1)


def test_an_mlp_space_trains_on_digits_as_images() -> None:
    from dse.training.train import model_input_shape, train_candidate

    _threads()
    space = _space({"source": "sklearn", "name": "digits", "max_samples": 600, "shape": [8, 8, 1]})
    data = load_dataset(space.data)
    assert data.input_shape == (8, 8, 1)
    cand = _mlp()
    assert model_input_shape(cand, data) == (64,)
    result = train_candidate(cand, space, data, seed=1)
    assert result.model.input_shape == (None, 64)
    assert result.val_accuracy > 0.6, result.val_accuracy  # 10 classes: chance is 0.1


def test_muon_strips_are_learnable_by_a_small_qkeras_cnn_and_by_dse_s_mlp() -> None:
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    from dse.training.train import train_candidate

    _threads()
    space = _space({"source": "generator", "name": "muon_strips",
                    "generator": {"layers": 4, "strips": 64, "samples": 4000, "angle_bins": 5}}, epochs=12)
    data = load_dataset(space.data)
    chance = 1 / data.n_classes
    tf.keras.utils.set_random_seed(0)
    q = quantized_bits(8, 2, alpha=1)
    h, w, c = data.input_shape
    inputs = tf.keras.Input(data.input_shape)
    x = QConv2D(4, (h, 5), kernel_quantizer=q, bias_quantizer=q)(inputs)
    x = QActivation(quantized_relu(8, 3))(x)
    x = tf.keras.layers.MaxPooling2D((1, 4))(x)
    x = tf.keras.layers.Flatten()(x)
    x = QActivation(quantized_relu(8, 3))(QDense(16, kernel_quantizer=q, bias_quantizer=q)(x))
    cnn = tf.keras.Model(inputs, QDense(data.n_classes, kernel_quantizer=q, bias_quantizer=q)(x))
    cnn.compile(tf.keras.optimizers.Adam(0.005), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])
    cnn.fit(data.x_train, data.y_train, epochs=12, batch_size=64, verbose=0)
    cnn_acc = float((np.asarray(cnn(data.x_val)).argmax(axis=1) == data.y_val).mean())
    mlp = train_candidate(_mlp((32,)), space, data, seed=0)
    print(f"muon_strips 4x64, 5 slope bins: QKeras CNN ({cnn.count_params()} parameters) val accuracy {cnn_acc:.3f}, "
          f"dse MLP (64->32) {mlp.val_accuracy:.3f}, chance {chance:.3f}")
    assert cnn_acc > 2 * chance and mlp.val_accuracy > 1.6 * chance


def test_tb_data_of_an_image_model_is_what_hls4ml_s_firmware_reads(tmp_path: Path) -> None:
    import hls4ml
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    from dse.training.testbench import INPUT_FILE, OUTPUT_FILE, read_dat, write_tb_data

    _threads()
    data = load_dataset(_space({"source": "sklearn", "name": "digits", "max_samples": 400,
                                "shape": [8, 8, 1]}).data)
    tf.keras.utils.set_random_seed(0)
    q = quantized_bits(8, 2, alpha=1)
    inputs = tf.keras.Input((8, 8, 1), name="features")
    x = QActivation(quantized_relu(8, 3), name="r1")(QConv2D(3, (3, 3), kernel_quantizer=q, bias_quantizer=q,
                                                            name="c1")(inputs))
    x = tf.keras.layers.Flatten(name="flat")(x)
    model = tf.keras.Model(inputs, QDense(10, kernel_quantizer=q, bias_quantizer=q, name="out")(x))  # logits
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(data.x_train, data.y_train, epochs=3, verbose=0)

    tb = write_tb_data(model, data.x_test, tmp_path / "tb_data", max_samples=40)
    x_lines, stored = read_dat(tb.inputs), read_dat(tb.predictions)
    assert tb.n_samples == 40 and x_lines.shape == (40, 64) and stored.shape == (40, 10)
    assert (tmp_path / "tb_data" / INPUT_FILE).exists() and (tmp_path / "tb_data" / OUTPUT_FILE).exists()
    np.testing.assert_allclose(x_lines, flat(data.x_test[:40]), rtol=1e-6, atol=1e-7)  # C order, channels last
    np.testing.assert_allclose(np.asarray(model(data.x_test[:40])), stored, rtol=1e-5, atol=1e-6)

    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=config, output_dir=str(tmp_path / "prj"), backend="Vitis", io_type="io_parallel")
    hls_model.compile()
    firmware = np.asarray(hls_model.predict(np.ascontiguousarray(x_lines))).reshape(stored.shape)
    # the fixed-point firmware (inputs as fixed<16,6>) reproduces the logits from the flat lines
    assert float(np.abs(firmware - stored).mean()) < 0.02, np.abs(firmware - stored).mean()
    assert np.mean(firmware.argmax(axis=1) == stored.argmax(axis=1)) >= 0.95
    # the same values with rows and columns swapped would not: the order is what the firmware reads
    shuffled = x_lines.reshape(40, 8, 8).transpose(0, 2, 1).reshape(40, 64)
    wrong = np.asarray(hls_model.predict(np.ascontiguousarray(shuffled))).reshape(stored.shape)
    assert float(np.abs(wrong - stored).mean()) > 5 * float(np.abs(firmware - stored).mean())

    # hls4ml's own C++ test bench (myproject_test.cpp, built with g++ instead of the HLS tool's csim)
    # reads tb_data/ and logs the firmware's outputs: they are the emulation's
    prj = tmp_path / "prj"
    write_tb_data(model, data.x_test, prj / "tb_data", max_samples=40)
    subprocess.run(["g++", "-O1", "-std=c++14", "-Ifirmware/ap_types", "-Ifirmware",
                    '-DWEIGHTS_DIR="firmware/weights"', "myproject_test.cpp", "firmware/myproject.cpp", "-o", "csim"],
                   cwd=prj, check=True, timeout=600, capture_output=True)
    subprocess.run(["./csim"], cwd=prj, check=True, timeout=300, capture_output=True)
    csim = read_dat(prj / "tb_data" / "csim_results.log")
    assert csim.shape == stored.shape
    np.testing.assert_allclose(csim, firmware, atol=1e-5)  # cout prints 6 digits; one LSB here is ~1e-3
