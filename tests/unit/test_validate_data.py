"""``dse validate`` checks the data file cheaply (header and labels) with file:line; data errors name the
file and column; a closed pipe is not an error."""

from __future__ import annotations

import os
import subprocess
import sys
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


def test_validate_into_a_closed_pipe_prints_no_traceback(tmp_path: Path) -> None:
    space = _space(tmp_path, {"path": str(_csv(tmp_path / "d.csv")), "label": "kind"})
    dse = Path(sys.executable).with_name("dse")
    proc = subprocess.run(f"'{dse}' validate '{space}' | head -1", shell=True, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "0"})
    assert proc.stdout.startswith("space 'tiny' is valid")
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
