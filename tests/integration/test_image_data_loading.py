"""Image and sequence data loaded (train/validation/test split with scikit-learn, ~2 s to import): the
sample shape kept from NPZ arrays, ``data.shape`` (digits as 8x8x1 images), per-channel standardisation,
the generator source. The checks that refuse data before loading are in tests/unit/test_image_data.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dse.errors import ConfigError
from dse.space import load_space
from dse.training.data import flat
from tests.unit.test_image_data import _labels, _load, _npz, _space_file


def test_a_table_stays_flat_and_standardised_per_feature(tmp_path: Path) -> None:
    data = _load(tmp_path, {"source": "sklearn", "name": "digits", "max_samples": 400})
    assert data.input_shape == (64,) and data.n_features == 64 and data.x_train.ndim == 2
    varying = data.x_train.std(axis=0) > 0
    assert np.allclose(data.x_train.mean(axis=0)[varying], 0, atol=1e-5)
    assert np.allclose(data.x_train.std(axis=0)[varying], 1, atol=1e-4)


def test_digits_as_8x8x1_images_are_the_same_samples_standardised_per_channel(tmp_path: Path) -> None:
    table = _load(tmp_path, {"source": "sklearn", "name": "digits", "max_samples": 400, "standardize": False})
    images = _load(tmp_path, {"source": "sklearn", "name": "digits", "max_samples": 400, "standardize": False,
                              "shape": [8, 8, 1]})
    assert images.input_shape == (8, 8, 1) and images.n_features == 64
    assert images.x_train.shape == (len(table.x_train), 8, 8, 1)
    assert np.array_equal(flat(images.x_train), table.x_train) and np.array_equal(images.y_test, table.y_test)
    std = _load(tmp_path, {"source": "sklearn", "name": "digits", "max_samples": 400, "shape": [8, 8, 1]})
    assert abs(float(std.x_train.mean())) < 1e-5 and abs(float(std.x_train.std()) - 1) < 1e-4
    # one mean for the channel, not one per pixel: the corner pixels (always 0) stay below the mean
    assert np.allclose(std.x_train[:, 0, 0, 0], std.x_train[0, 0, 0, 0])
    assert std.x_train[0, 0, 0, 0] < 0


def test_an_npz_image_array_keeps_its_shape(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 6, 5, 2)).astype(np.float32)
    data = _load(tmp_path, {"source": "file", "path": _npz(tmp_path, x=x, y=_labels(60)), "features": ["x"],
                            "label": "y"})
    assert data.input_shape == (6, 5, 2) and data.n_features == 60
    per_channel = data.x_train.reshape(-1, 2)
    assert np.allclose(per_channel.mean(axis=0), 0, atol=1e-5) and np.allclose(per_channel.std(axis=0), 1, atol=1e-4)


def test_uint8_grayscale_images_get_one_channel_and_are_scaled_to_unit_range(tmp_path: Path) -> None:
    x = np.random.default_rng(1).integers(0, 256, size=(60, 7, 9), dtype=np.uint8)
    npz = _npz(tmp_path, images=x, label=_labels(60))
    data = _load(tmp_path, {"source": "file", "path": npz, "label": "label", "standardize": False})
    assert data.input_shape == (7, 9, 1)
    values = np.concatenate([flat(data.x_train), flat(data.x_val), flat(data.x_test)])
    assert values.min() >= 0 and values.max() <= 1
    assert np.isclose(np.sort(values.ravel())[-1], x.max() / 255.0)


def test_data_shape_reads_a_3d_array_as_sequences(tmp_path: Path) -> None:
    x = np.random.default_rng(2).normal(size=(60, 10, 3))
    npz = _npz(tmp_path, tracks=x, y=_labels(60))
    data = _load(tmp_path, {"source": "file", "path": npz, "label": "y", "shape": [10, 3]})
    assert data.input_shape == (10, 3)
    assert np.allclose(data.x_train.reshape(-1, 3).mean(axis=0), 0, atol=1e-5)


def test_the_generator_source_loads_images_and_refuses_foreign_keys(tmp_path: Path) -> None:
    data = _load(tmp_path, {"source": "generator", "name": "muon_strips",
                            "generator": {"layers": 4, "strips": 32, "samples": 500, "angle_bins": 5}})
    assert data.input_shape == (4, 32, 1) and data.n_classes == 5
    assert len(data.x_train) + len(data.x_val) + len(data.x_test) == 500
    with pytest.raises(ConfigError) as info:
        load_space(_space_file(tmp_path, {"source": "generator", "name": "muon_strip"}))
    assert info.value.path == "data.name" and "did you mean 'muon_strips'" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_space(_space_file(tmp_path, {"source": "sklearn", "name": "digits", "generator": {"layers": 4}}))
    assert info.value.path == "data.generator"
    with pytest.raises(ConfigError) as info:
        load_space(_space_file(tmp_path, {"source": "generator", "name": "muon_strips",
                                          "generator": {"strips": 16, "max_slope": 4.0}}))
    assert info.value.path == "data.generator.max_slope"
