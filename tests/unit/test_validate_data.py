"""``dse validate`` checks the data file cheaply (header and labels) with file:line; data errors name the
file and column; a closed pipe is not an error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from dse.commands.cli import main
from dse.errors import DataError
from dse.space import load_space
from dse.training.data import load_dataset
from tests.helpers import tiny_space_dict


def _csv(path: Path, header: bool = True, nan_at: tuple[int, int] | None = None, classes: int = 2) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    if nan_at is not None:
        x[nan_at] = np.nan
    labels = ["signal", "background", "other"][:classes]
    lines = ["f0,f1,f2,kind"] if header else []
    lines += [f"{a},{b},{c},{labels[i % classes]}" for i, (a, b, c) in enumerate(x)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _space(tmp_path: Path, data: dict) -> Path:
    d = tiny_space_dict()
    d["data"] = {"source": "file", **data}
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_validate_accepts_a_csv_with_string_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = _space(tmp_path, {"path": str(_csv(tmp_path / "d.csv")), "label": "kind"})
    assert main(["validate", str(space)]) == 0
    out = capsys.readouterr().out
    assert "is valid" in out
    assert "40 rows, 3 feature column(s), label 'kind' with 2 classes (background, signal)" in out


def test_validate_catches_a_wrong_label_column_with_file_and_line(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    space = _space(tmp_path, {"path": str(_csv(tmp_path / "d.csv")), "label": "class"})
    assert main(["validate", str(space)]) == 2
    err = capsys.readouterr().err
    assert f"{space}:{_line(space, 'label: class')}: data.label: 'class' is not a column of" in err
    assert "its columns are f0, f1, f2, kind" in err and "Traceback" not in err


def test_validate_catches_a_wrong_feature_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = _space(tmp_path, {"path": str(_csv(tmp_path / "d.csv")), "label": "kind", "features": ["f0", "pt"]})
    assert main(["validate", str(space)]) == 2
    err = capsys.readouterr().err
    assert f"{space}:{_line(space, '- pt')}: data.features[1]: 'pt' not a column of" in err


def test_validate_says_a_csv_needs_a_header_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = _space(tmp_path, {"path": str(_csv(tmp_path / "d.csv", header=False)), "label": "kind"})
    assert main(["validate", str(space)]) == 2
    assert "a CSV needs a header row naming its columns" in capsys.readouterr().err


def test_validate_catches_a_single_class_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = _space(tmp_path, {"path": str(_csv(tmp_path / "d.csv", classes=1)), "label": "kind"})
    assert main(["validate", str(space)]) == 2
    assert "label column 'kind' has 1 distinct value(s)" in capsys.readouterr().err


def test_a_nan_in_the_features_names_the_file_and_column(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "d.csv", nan_at=(7, 1))
    space = load_space(_space(tmp_path, {"path": str(csv), "label": "kind"}))
    with pytest.raises(DataError) as info:
        load_dataset(space.data)
    assert str(info.value) == (f"{csv}: NaN or infinite values in feature column(s) "
                               "'f1' (1 value(s), first at data row 8)")


# --------------------------------------------------------------------------- image and sequence arrays


def _npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


def test_validate_says_how_an_npz_image_array_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    npz = _npz(tmp_path / "img.npz", x=np.zeros((50, 12, 10), dtype=np.uint8), y=np.arange(50) % 5)
    space = _space(tmp_path, {"path": str(npz), "label": "y"})
    assert main(["validate", str(space)]) == 0
    out = capsys.readouterr().out
    assert ("50 samples of 12x10x1 images (H x W x C) (array 'x', uint8: divided by 255); a 3-D array is read as "
            "one-channel images: for sequences of length 12 with 10 channels set data.shape: [12, 10], label 'y' "
            "with 5 classes") in out
    seq = _space(tmp_path, {"path": str(npz), "label": "y", "features": ["x"], "shape": [12, 10]})
    assert main(["validate", str(seq)]) == 0
    assert "50 samples of sequences of length 12 with 10 channel(s) (array 'x', uint8: divided by 255)" in (
        capsys.readouterr().out)


@pytest.mark.parametrize(("arrays", "data", "key", "line_text", "message"), [
    ({"x": np.zeros((40, 4, 4, 1, 2))}, {"features": ["x"]}, "data.features", "features:",
     "array 'x' of d.npz has shape (40, 4, 4, 1, 2); an image array is (N, H, W, C)"),
    ({"x": np.zeros((40, 4, 4, 1)), "z": np.zeros((40, 4, 4, 1))}, {}, "data.features", None,
     "an image or sequence array must be the only feature array; d.npz gives 'x' (40, 4, 4, 1), 'z' (40, 4, 4, 1) "
     "(data.features not set: every array but the label)"),
    ({"x": np.zeros((39, 4, 4, 1))}, {"features": ["x"]}, "data.label", "label: y",
     "array 'y' of d.npz has 40 values but feature array 'x' has shape (39, 4, 4, 1) (39 samples)"),
    ({"x": np.zeros((40, 4, 4, 1))}, {"shape": [4, 5, 1]}, "data.shape", "shape:",
     "[4, 5, 1] holds 20 values, but each sample of"),
])
def test_validate_catches_bad_image_arrays_with_the_key_and_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], arrays: dict, data: dict, key: str,
        line_text: str | None, message: str) -> None:
    npz = _npz(tmp_path / "d.npz", y=np.arange(40) % 2, **arrays)
    space = _space(tmp_path, {"path": str(npz), "label": "y", **data})
    assert main(["validate", str(space)]) == 2
    err = capsys.readouterr().err
    where = f"{space}:{_line(space, line_text)}: " if line_text else f"{space}: "
    assert f"{where}{key}: {message}" in err, err


def test_validate_checks_data_shape_against_a_csv_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = _space(tmp_path, {"path": str(_csv(tmp_path / "d.csv")), "label": "kind", "shape": [2, 2]})
    assert main(["validate", str(space)]) == 2
    assert "data.shape: [2, 2] holds 4 values, but each sample of" in capsys.readouterr().err
    space = _space(tmp_path, {"path": str(_csv(tmp_path / "d.csv")), "label": "kind", "shape": [3, 1]})
    assert main(["validate", str(space)]) == 0
    assert "40 samples of sequences of length 3 with 1 channel(s), label 'kind'" in capsys.readouterr().out


def test_validate_describes_generated_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tiny_space_dict()
    d["data"] = {"source": "generator", "name": "muon_strips", "generator": {"layers": 9, "samples": 3000}}
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "generated data muon_strips: 3000 images of 9x64x1 (layers x strips), 5 classes" in out
    assert "data          generator: muon_strips (3000 images of 9x64x1, 5 classes, seed 0)" in out


def _write(tmp_path: Path, d: dict) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path
