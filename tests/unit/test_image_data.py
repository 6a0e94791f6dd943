"""Image and sequence data: ``data.shape`` refusals, the muon_strips generator, NPZ headers, and errors
that name the key (all before the data is split). Loaded data (the split imports scikit-learn, ~2 s) is
tested in tests/integration/test_image_data_loading.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from dse.errors import ConfigError, DataError
from dse.space import GeneratorConfig, load_space
from dse.training.data import as_model_input, flat, load_dataset
from dse.training.generators import muon_strips
from tests.helpers import tiny_space_dict


def _space_file(tmp_path: Path, data: dict) -> Path:
    d = tiny_space_dict()
    d["data"] = data
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


def _load(tmp_path: Path, data: dict):  # type: ignore[no-untyped-def]
    return load_dataset(load_space(_space_file(tmp_path, data)).data)


def _npz(tmp_path: Path, **arrays: np.ndarray) -> str:
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return str(path)


def _labels(n: int, k: int = 3) -> np.ndarray:
    return np.arange(n) % k


def test_a_shape_that_does_not_hold_the_features_names_data_shape(tmp_path: Path) -> None:
    path = _space_file(tmp_path, {"source": "sklearn", "name": "digits", "shape": [8, 8, 2]})
    with pytest.raises(ConfigError) as info:
        load_space(path)
    assert info.value.path == "data.shape" and "holds 128 values, but each sample of digits has 64" in str(info.value)
    npz = _npz(tmp_path, x=np.zeros((30, 5, 5)), y=_labels(30))
    with pytest.raises(DataError, match=r"data.shape: \[4, 4\] holds 16 values, but each sample has 25"):
        _load(tmp_path, {"source": "file", "path": npz, "features": ["x"], "label": "y", "shape": [4, 4]})


@pytest.mark.parametrize(("arrays", "features", "message"), [
    ({"x": np.zeros((30, 4, 4, 1)), "z": np.zeros((30, 4, 4, 1))}, ["x", "z"],
     r"data.features: an image or sequence array must be the only feature array; d.npz gives 'x' \(30, 4, 4, 1\)"),
    ({"x": np.zeros((30, 4, 4, 1)), "pt": np.zeros(30)}, None,
     r"data.features: an image or sequence array must be the only feature array; d.npz gives 'x' \(30, 4, 4, 1\), "
     r"'pt' \(30,\) \(data.features not set: every array but the label\): name one array in data.features"),
    ({"x": np.zeros((30, 2, 4, 4, 1))}, ["x"], r"data.features: array 'x' of d.npz has shape \(30, 2, 4, 4, 1\)"),
    ({"x": np.zeros((29, 4, 4))}, ["x"], r"data.label: array 'y' of d.npz has 30 values but feature array 'x' has "
                                         r"shape \(29, 4, 4\) \(29 samples\)"),
])
def test_bad_npz_image_arrays_name_the_key(tmp_path: Path, arrays: dict, features: list[str] | None,
                                           message: str) -> None:
    data = {"source": "file", "path": _npz(tmp_path, y=_labels(30), **arrays), "label": "y"}
    if features:
        data["features"] = features
    with pytest.raises(DataError, match=message):
        _load(tmp_path, data)


def test_spaces_without_the_new_keys_resolve_as_before(tmp_path: Path) -> None:
    space = load_space(_space_file(tmp_path, {"source": "sklearn", "name": "digits"}))
    assert "shape" not in space.data.resolved() and "generator" not in space.data.resolved()
    shaped = load_space(_space_file(tmp_path, {"source": "sklearn", "name": "digits", "shape": [8, 8, 1]}))
    assert shaped.data.resolved()["shape"] == [8, 8, 1]
    assert shaped.search_identity() != space.search_identity()


def test_as_model_input_flattens_or_reshapes_and_refuses_a_mismatch() -> None:
    x = np.arange(2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8, 1)
    assert as_model_input(x, (64,)).shape == (2, 64)
    assert np.array_equal(as_model_input(flat(x), (None, 8, 8, 1)[1:]), x)
    with pytest.raises(DataError, match="do not fit"):
        as_model_input(x, (63,))


# --------------------------------------------------------------------------- muon_strips


def test_muon_strips_is_deterministic_balanced_and_binary() -> None:
    cfg = GeneratorConfig(layers=9, strips=64, samples=1000, angle_bins=4, seed=3)
    x, y, names = muon_strips(cfg)
    x2, y2, _ = muon_strips(cfg)
    x3, _, _ = muon_strips(GeneratorConfig(layers=9, strips=64, samples=1000, angle_bins=4, seed=4))
    assert x.shape == (1000, 9, 64, 1) and len(names) == 9 * 64 and names[65] == "hits[1,1]"
    assert np.array_equal(x, x2) and np.array_equal(y, y2) and not np.array_equal(x, x3)
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert np.bincount(y).tolist() == [250] * 4


def test_muon_strips_without_noise_holds_one_straight_track_whose_slope_gives_the_label() -> None:
    cfg = GeneratorConfig(layers=4, strips=64, samples=400, angle_bins=4, max_slope=3.0, noise=0.0, efficiency=1.0)
    x, y, _ = muon_strips(cfg)
    hits = x[..., 0]
    assert np.all(hits.sum(axis=2) == 1)  # one hit per layer
    strip = hits.argmax(axis=2).astype(float)
    slope = np.polyfit(np.arange(4), strip.T, 1)[0]  # fitted strips per layer, one per image
    # rounding to strips moves the fitted slope by at most 0.3 strips/layer over 4 layers
    edges = np.linspace(-3, 3, 5)
    lo, hi = edges[y] - 0.31, edges[y + 1] + 0.31
    assert np.all((slope >= lo) & (slope <= hi))
    assert np.corrcoef(slope, y)[0, 1] > 0.9


def test_a_nan_in_an_image_names_the_pixel(tmp_path: Path) -> None:
    x = np.zeros((30, 3, 4, 2))
    x[5, 1, 2, 0] = np.nan
    npz = _npz(tmp_path, x=x, y=_labels(30))
    with pytest.raises(DataError, match=r"NaN or infinite values in feature column\(s\) 'x\[1,2,0\]' \(1 value\(s\), "
                                        r"first at data row 6\)"):
        _load(tmp_path, {"source": "file", "path": npz, "features": ["x"], "label": "y"})


def test_npz_shapes_reads_headers_of_plain_and_compressed_files(tmp_path: Path) -> None:
    from dse.training.data import npz_shapes

    arrays = {"x": np.zeros((7, 3, 2), dtype=np.uint8), "y": np.arange(7)}
    np.savez(tmp_path / "a.npz", **arrays)  # type: ignore[arg-type]
    np.savez_compressed(tmp_path / "b.npz", **arrays)  # type: ignore[arg-type]
    for name in ("a.npz", "b.npz"):
        shapes = npz_shapes(tmp_path / name)
        assert shapes["x"] == ((7, 3, 2), "uint8") and shapes["y"][0] == (7,)
