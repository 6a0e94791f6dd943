"""Cheap checks of a space's data file for ``dse validate``: the header and the labels, not the data set.

``check_data(space, space_file)`` reads only the column names of a CSV/Parquet file (the array
names and shapes of an NPZ) and the label column, so a wrong ``data.label`` or ``data.features``
name, a CSV without a header row, a label with missing values or a single class, an image array
of the wrong rank or next to other feature arrays, a label whose length is not the images' count,
or a ``data.shape`` that does not hold a sample's values is caught in well under a second, with
the space file's line of the key (``space.yaml:7: data.label: ...``). The note says how the
samples will be read (a table's columns, images H x W x C, sequences L x C). Data sets from
scikit-learn and OpenML are not checked here (``dse run`` loads them); a generated set gets a note.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from dse.errors import ConfigError, DataError
from dse.space.yaml_lines import load_yaml_with_lines
from dse.training.data import npz_feature_arrays, npz_shapes

log = logging.getLogger(__name__)

__all__ = ["check_data", "data_columns", "sample_shape"]


def _line_of(space_file: str | Path, key: str) -> int | None:
    try:
        _, lines = load_yaml_with_lines(Path(space_file).read_text(encoding="utf-8"))
    except Exception:  # the space already parsed; a line is only a nicety
        return None
    return lines.get(key)


def data_columns(path: str | Path) -> list[str]:
    """The column names of a CSV (header row) or Parquet file, or the array names of an NPZ file,
    without reading the data. Raises ``ValueError`` (with the reason) when they cannot be read."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        import numpy as np

        with np.load(p, allow_pickle=False) as arrays:
            return list(arrays.files)
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            import pandas as pd

            return [str(c) for c in pd.read_parquet(p).columns]
        return list(pq.read_schema(p).names)
    import pandas as pd

    return [str(c) for c in pd.read_csv(p, nrows=0).columns]


def _looks_numeric(name: str) -> bool:
    try:
        float(name)
    except ValueError:
        return False
    return True


def _label_values(path: Path, label: str) -> Any:
    """The label column alone (CSV: ``usecols``; Parquet: one column; NPZ: one array)."""
    suffix = path.suffix.lower()
    import pandas as pd

    if suffix == ".npz":
        import numpy as np

        with np.load(path, allow_pickle=False) as arrays:
            return pd.Series(np.asarray(arrays[label]).ravel())
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path, columns=[label])[label]
    return pd.read_csv(path, usecols=[label])[label]


def check_data(space: Any, space_file: str | Path) -> list[str]:
    """Check the data file of ``space`` (loaded from ``space_file``); raises ``ConfigError`` naming the
    space file, the line of the key and the data file. Returns notes for the user (e.g. the classes
    found); empty for data sets that are not files."""
    d = space.data
    if d.source == "generator":
        g = d.generator_settings
        return [f"generated data {d.name}: {g.samples} images of {g.layers}x{g.strips}x1 (layers x strips), "
                f"{g.angle_bins} classes (track-slope bins), seed {g.seed}"]
    if d.source != "file" or not d.path:
        return []
    path = Path(d.path)
    where = str(space_file)

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, path=key, file=where, line=_line_of(space_file, key))

    try:
        columns = data_columns(path)
    except Exception as exc:  # pandas/pyarrow/numpy raise many types for malformed files
        raise fail("data.path", f"cannot read the columns of {path}: {exc}") from None
    kind = "array" if path.suffix.lower() == ".npz" else "column"
    headerless = (path.suffix.lower() == ".csv" and bool(columns)
                  and sum(_looks_numeric(c) for c in columns) * 2 >= len(columns))
    if headerless and (d.label not in columns or any(f not in columns for f in d.features or ())):
        raise fail("data.path", f"{path}: the first row holds numbers ({', '.join(columns[:4])}"
                                f"{', ...' if len(columns) > 4 else ''}), not column names; a CSV needs a "
                                "header row naming its columns")
    shown = ", ".join(columns[:30]) + (f", ... ({len(columns)} in all)" if len(columns) > 30 else "")
    if d.label not in columns:
        raise fail("data.label", f"{d.label!r} is not a {kind} of {path}; its {kind}s are {shown}")
    if d.features:
        missing = [f for f in d.features if f not in columns]
        if missing:
            i = list(d.features).index(missing[0])
            raise ConfigError(f"{', '.join(map(repr, missing))} not a {kind} of {path}; its {kind}s are {shown}",
                              path=f"data.features[{i}]", file=where,
                              line=_line_of(space_file, f"data.features[{i}]") or _line_of(space_file,
                                                                                            "data.features"))
        if d.label in d.features:
            raise fail("data.features", f"the label {d.label!r} is also listed as a feature")
    sample_note = ""
    if kind == "array":
        sample_shape, sample_note = _npz_sample_shape(path, d, fail)
    else:
        sample_shape = (len(d.features) if d.features else len(columns) - 1,)
    if d.shape is not None and math.prod(d.shape) != math.prod(sample_shape):
        raise fail("data.shape", f"{list(d.shape)} holds {math.prod(d.shape)} values, but each sample of {path} has "
                                 f"{math.prod(sample_shape)}")
    try:
        labels = _label_values(path, str(d.label))
    except Exception as exc:
        raise fail("data.label", f"cannot read the label {kind} {d.label!r} of {path}: {exc}") from None
    n_missing = int(labels.isna().sum())
    if n_missing:
        first = int(labels.isna().to_numpy().nonzero()[0][0])
        row = f" (first at data row {first + 1})"
        raise fail("data.label", f"{path}: label {kind} {d.label!r} has {n_missing} missing value(s){row}")
    classes = labels.unique()
    if len(classes) < 2:
        raise fail("data.label", f"{path}: label {kind} {d.label!r} has {len(classes)} distinct value(s); "
                                 "classification needs at least 2")
    n_features = len(d.features) if d.features else len(columns) - 1
    shown_classes = ", ".join(map(str, sorted(map(str, classes))[:10])) + (", ..." if len(classes) > 10 else "")
    label_note = f"label {d.label!r} with {len(classes)} classes ({shown_classes})"
    shape = tuple(d.shape) if d.shape is not None else sample_shape
    if sample_note or len(shape) > 1:
        return [f"data file {path}: {len(labels)} samples of {_shape_words(shape)}{sample_note}, {label_note}"]
    return [f"data file {path}: {len(labels)} rows, {n_features} feature {kind}(s), {label_note}"]


def sample_shape(d: Any) -> tuple[int, ...] | None:
    """One sample's shape as ``load_dataset`` will give it for the space's ``data`` section ``d``
    (``data.shape`` if set; else ``(n_features,)`` for a table, ``(H, W, C)`` images, ``(L, C)``
    sequences), found without loading the data: from scikit-learn's known sizes, the generator's
    settings, a CSV/Parquet header or an NPZ's array headers. None when it cannot be known cheaply
    (OpenML) or the file cannot be read (``check_data`` reports why)."""
    from dse.space.schema import SKLEARN_N_FEATURES

    if d.shape is not None:
        return tuple(int(n) for n in d.shape)
    if d.source == "sklearn":
        return (SKLEARN_N_FEATURES[str(d.name)],)
    if d.source == "generator":
        g = d.generator_settings
        return (g.layers, g.strips, 1)
    if d.source != "file" or not d.path:
        return None
    path = Path(d.path)
    try:
        if path.suffix.lower() == ".npz":
            shapes = npz_shapes(path)
            names, image = npz_feature_arrays(path.name, {n: s for n, (s, _) in shapes.items()}, d.features,
                                              str(d.label))
            if not image:
                return (sum(math.prod(shapes[n][0][1:]) for n in names),)
            sample = shapes[names[0]][0][1:]
            return (*sample, 1) if len(sample) == 2 else sample
        columns = data_columns(path)
    except Exception:  # unreadable or inconsistent: check_data says why
        return None
    return (len(d.features) if d.features else len(columns) - 1,)


def _shape_words(shape: tuple[int, ...]) -> str:
    """How samples of ``shape`` will be read: ``8x8x1 images``, ``sequences of length 20 with 3 channels``."""
    if len(shape) == 3:
        return "x".join(map(str, shape)) + " images (H x W x C)"
    if len(shape) == 2:
        return f"sequences of length {shape[0]} with {shape[1]} channel(s)"
    return f"{shape[0]} features (flat)"


def _npz_sample_shape(path: Path, d: Any, fail: Any) -> tuple[tuple[int, ...], str]:
    """One sample's shape as the loader reads it (before ``data.shape``), and a note on how: the image
    array's name and dtype, and for a 3-D array without ``data.shape`` how to read it as sequences."""
    try:
        shapes = npz_shapes(path)
    except Exception as exc:  # not a zip, a damaged header
        raise fail("data.path", f"cannot read the array shapes of {path}: {exc}") from None
    try:
        names, image = npz_feature_arrays(path.name, {n: s for n, (s, _) in shapes.items()}, d.features,
                                          str(d.label))
    except DataError as exc:
        raise fail(exc.key or "data.path", exc.message) from None
    if not image:
        return (sum(math.prod(shapes[n][0][1:]) for n in names),), ""
    full, dtype = shapes[names[0]]
    sample = full[1:]
    note = f" (array {names[0]!r}, {dtype}{': divided by 255' if dtype == 'uint8' else ''})"
    if len(sample) == 2 and d.shape is None:
        note += (f"; a 3-D array is read as one-channel images: for sequences of length {sample[0]} with "
                 f"{sample[1]} channels set data.shape: [{sample[0]}, {sample[1]}]")
        sample = (*sample, 1)
    return sample, note
