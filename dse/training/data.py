"""Data sets: scikit-learn's bundled sets, local files (CSV/Parquet/NPZ), OpenML (cached) and
generated sets (dse.training.generators).

``load_dataset(cfg)`` returns a seeded, stratified train/val/test split, standardised with
the training set's mean and standard deviation, with integer class labels.

Each sample keeps its shape (channels last): ``(n_features,)`` for a table, ``(H, W, C)`` for an
image, ``(L, C)`` for a sequence. The shape comes from the data: an NPZ feature array of shape
(N, H, W, C) gives images; (N, H, W) gives one-channel images (H, W, 1); ``data.shape`` reshapes
each sample instead (``[L, C]`` reads an (N, L, C) array as sequences, ``[8, 8, 1]`` the 64 pixels of
scikit-learn's digits as images). Images and sequences stored as uint8 are divided by 255 (to
[0, 1]) first. Standardisation is per channel (the last axis): the mean and standard deviation of
the training split over its samples and all positions; for a table every feature is a channel,
so this is the usual per-feature standardisation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dse.errors import DataError
from dse.space import DataConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dataset:
    """Features are float32 arrays of shape (n, *input_shape); labels int32 class indices."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's shape: ``(n_features,)`` for a table, ``(H, W, C)`` images, ``(L, C)`` sequences."""
        return tuple(int(n) for n in self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        """Values per sample (the product of ``input_shape``)."""
        return int(np.prod(self.x_train.shape[1:]))

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def load_dataset(cfg: DataConfig) -> Dataset:
    """Load, split and standardise the data set a space file describes."""
    x, y, feature_names = _load_raw(cfg)
    if len(x) != len(y):
        raise DataError(f"{len(x)} feature rows but {len(y)} labels")
    x = _sample_shaped(x, cfg)
    if not np.all(np.isfinite(x)):
        raise DataError(_non_finite_message(x, feature_names, cfg))
    classes, y_idx = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"the label has {len(classes)} distinct value(s); classification needs at least 2")
    if cfg.max_samples is not None and len(x) > cfg.max_samples:
        keep = _stratified_subset(y_idx, cfg.max_samples, cfg.seed)
        x, y_idx = x[keep], y_idx[keep]
    from sklearn.model_selection import train_test_split

    try:
        x_rest, x_test, y_rest, y_test = train_test_split(
            x, y_idx, test_size=cfg.test_fraction, random_state=cfg.seed, stratify=y_idx)
        val_share = cfg.val_fraction / (1.0 - cfg.test_fraction)
        x_train, x_val, y_train, y_val = train_test_split(
            x_rest, y_rest, test_size=val_share, random_state=cfg.seed, stratify=y_rest)
    except ValueError as exc:
        raise DataError(f"cannot split the data set: {exc}") from None
    if cfg.standardize:
        axes = tuple(range(x_train.ndim - 1))  # per channel: over samples and positions
        mean = x_train.mean(axis=axes)
        std = x_train.std(axis=axes)
        std[std == 0] = 1.0
        x_train, x_val, x_test = ((a - mean) / std for a in (x_train, x_val, x_test))
    log.info("data: %d train, %d val, %d test samples of shape %s, %d classes",
             len(x_train), len(x_val), len(x_test), "x".join(map(str, x.shape[1:])), len(classes))
    return Dataset(
        x_train.astype(np.float32), y_train.astype(np.int32), x_val.astype(np.float32), y_val.astype(np.int32),
        x_test.astype(np.float32), y_test.astype(np.int32),
        tuple(str(c) for c in classes), tuple(feature_names),
    )


def flat(x: np.ndarray) -> np.ndarray:
    """Samples as rows of a 2-D table, channels last (the order hls4ml reads an image input in)."""
    return np.asarray(x).reshape(len(x), -1)


def as_model_input(x: np.ndarray, input_shape: tuple[int, ...] | tuple[int | None, ...]) -> np.ndarray:
    """``x`` (n samples) reshaped to a model's sample shape (e.g. ``model.input_shape[1:]``): flat for an
    MLP, images for a CNN. The values per sample must match."""
    shape = tuple(int(n) for n in input_shape if n is not None)
    x = np.asarray(x)
    if x.shape[1:] == shape:
        return x
    if int(np.prod(x.shape[1:])) != int(np.prod(shape)):
        raise DataError(f"samples of shape {x.shape[1:]} do not fit a model input of shape {shape}")
    return x.reshape(len(x), *shape)


def _sample_shaped(x: np.ndarray, cfg: DataConfig) -> np.ndarray:
    """``x`` with each sample in its shape (``data.shape``, else (N, H, W) → (N, H, W, 1)), as float64
    (an image or sequence array stored as uint8 divided by 255)."""
    scale = x.dtype == np.uint8 and x.ndim > 2  # an image or sequence array stored as uint8
    if cfg.shape is not None:
        n = int(np.prod(x.shape[1:]))
        if int(np.prod(cfg.shape)) != n:
            raise DataError(f"{list(cfg.shape)} holds {int(np.prod(cfg.shape))} values, but each sample "
                            f"has {n} (shape {list(x.shape[1:])})", key="data.shape")
        x = x.reshape(len(x), *cfg.shape)
    elif x.ndim == 3:
        x = x[..., None]
    if x.ndim not in (2, 3, 4):
        raise DataError(f"samples of shape {list(x.shape[1:])}: dse takes tables (N, features), sequences "
                        "(N, L, C) and images (N, H, W, C)")
    if scale:
        return x.astype(np.float64) / 255.0
    return x.astype(np.float64, copy=False)


def _non_finite_message(x: np.ndarray, names: list[str], cfg: DataConfig) -> str:
    """Which file and which columns hold NaN or infinite values, and the first row of each."""
    source = cfg.path if cfg.source == "file" else f"{cfg.source} data set {cfg.name or cfg.openml_id}"
    x = flat(x)
    bad = [j for j in range(x.shape[1]) if not np.all(np.isfinite(x[:, j]))]
    parts = []
    for j in bad[:5]:
        rows = np.nonzero(~np.isfinite(x[:, j]))[0]
        name = names[j] if j < len(names) else f"column {j}"
        parts.append(f"{name!r} ({len(rows)} value(s), first at data row {int(rows[0]) + 1})")
    more = f" and {len(bad) - 5} more column(s)" if len(bad) > 5 else ""
    return f"{source}: NaN or infinite values in feature column(s) {', '.join(parts)}{more}"


def _stratified_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of a class-stratified random subset of ``n`` rows."""
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(y)), train_size=n, random_state=seed, stratify=y)
    return np.sort(keep)


def _load_raw(cfg: DataConfig) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if cfg.source == "sklearn":
        return _load_sklearn(str(cfg.name))
    if cfg.source == "file":
        return _load_file(Path(str(cfg.path)), cfg.features, str(cfg.label))
    if cfg.source == "generator":
        from dse.training.generators import GENERATOR_FUNCTIONS

        return GENERATOR_FUNCTIONS[str(cfg.name)](cfg.generator_settings)
    return _load_openml(cfg)


def _load_sklearn(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from sklearn import datasets

    loaders = {"digits": datasets.load_digits, "breast_cancer": datasets.load_breast_cancer,
               "iris": datasets.load_iris, "wine": datasets.load_wine}
    bunch = loaders[name]()
    names = [str(n) for n in getattr(bunch, "feature_names", [f"x{i}" for i in range(bunch.data.shape[1])])]
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target), names


def _load_file(path: Path, features: tuple[str, ...] | None, label: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _load_npz(path, features, label)
    import pandas as pd

    try:
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except ImportError as exc:
        raise DataError(f"reading {path.name} needs pyarrow: pip install pyarrow ({exc})") from None
    except Exception as exc:  # pandas raises many types for malformed files
        raise DataError(f"cannot read {path}: {exc}") from None
    if label not in frame.columns:
        raise DataError(f"{path.name}: no label column {label!r}; columns are {', '.join(map(str, frame.columns))}")
    cols = list(features) if features else [c for c in frame.columns if c != label]
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(f"{path.name}: no feature column(s) {', '.join(missing)}")
    try:
        x = frame[cols].to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{path.name}: feature columns must be numeric ({exc})") from None
    return x, frame[label].to_numpy(), [str(c) for c in cols]


def npz_shapes(path: str | Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """``{array name: (shape, dtype)}`` of an NPZ file, read from the array headers only (no data)."""
    import zipfile

    out: dict[str, tuple[tuple[int, ...], str]] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as f:
                version = np.lib.format.read_magic(f)
                shape, _, dtype = np.lib.format._read_array_header(f, version)  # type: ignore[attr-defined]
            out[info.filename[:-4]] = (tuple(int(n) for n in shape), str(dtype))
    return out


def npz_feature_arrays(file_name: str, shapes: Mapping[str, tuple[int, ...]], features: tuple[str, ...] | None,
                       label: str) -> tuple[list[str], bool]:
    """The feature arrays of an NPZ (``data.features``, default every array but the label) and whether
    they are one image or sequence array (rank 3 or 4, samples first) rather than table columns
    (1-D or 2-D arrays). Raises ``DataError`` naming the key at fault (``data.label``,
    ``data.features``) for a missing array, a rank above 4, an image array next to others, or
    arrays whose sample counts differ from the label's."""
    if label not in shapes:
        raise DataError(f"{file_name}: no array {label!r}; arrays are {', '.join(shapes)}", key="data.label")
    key = "data.features"
    names = list(features) if features else [k for k in shapes if k != label]
    missing = [n for n in names if n not in shapes]
    if missing:
        raise DataError(f"{file_name}: no array(s) {', '.join(missing)}", key=key)
    if not names:
        raise DataError(f"{file_name} holds no array besides the label {label!r}", key=key)
    given = "" if features else " (data.features not set: every array but the label)"
    y_shape = shapes[label]
    if len(y_shape) not in (1, 2) or (len(y_shape) == 2 and y_shape[1] != 1):
        raise DataError(f"array {label!r} of {file_name} must hold one class per sample (shape (N,)), got shape "
                        f"{y_shape}", key="data.label")
    deep = [n for n in names if len(shapes[n]) > 2]
    for n in deep:
        if len(shapes[n]) > 4:
            raise DataError(f"array {n!r} of {file_name}{given} has shape {shapes[n]}; an image array is (N, H, W, C) "
                            "or (N, H, W), a sequence array (N, L, C)", key=key)
    if deep and len(names) > 1:
        listed = ", ".join(f"{n!r} {shapes[n]}" for n in names)
        raise DataError(f"an image or sequence array must be the only feature array; {file_name} gives {listed}"
                        f"{given}: name one array in data.features", key=key)
    for n in names:
        if not shapes[n] or shapes[n][0] != y_shape[0]:
            got = shapes[n][0] if shapes[n] else 0
            raise DataError(f"array {label!r} of {file_name} has {y_shape[0]} values but feature array {n!r} has "
                            f"shape {shapes[n]} ({got} samples)", key="data.label")
    return names, bool(deep)


def _load_npz(path: Path, features: tuple[str, ...] | None, label: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features and labels of an NPZ: 1-D/2-D feature arrays side by side as table columns, or one
    image/sequence array of rank 3 or 4 (N first) kept in its shape (uint8 kept as uint8)."""
    try:
        shapes = {n: s for n, (s, _) in npz_shapes(path).items()}
        arrays = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    with arrays:
        names, image = npz_feature_arrays(path.name, shapes, features, label)
        y = np.asarray(arrays[label]).ravel()
        if image:
            x = np.asarray(arrays[names[0]])
            if x.dtype != np.uint8:
                x = x.astype(np.float64)
            return x, y, [f"{names[0]}[{','.join(map(str, d))}]" for d in np.ndindex(*x.shape[1:])]
        cols: list[np.ndarray] = []
        col_names: list[str] = []
        for n in names:
            a = np.asarray(arrays[n], dtype=np.float64)
            if a.ndim == 1:
                cols.append(a[:, None])
                col_names.append(n)
            else:
                cols.append(a)
                col_names.extend(f"{n}[{i}]" for i in range(a.shape[1]))
        return np.concatenate(cols, axis=1), y, col_names


def _load_openml(cfg: DataConfig) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from sklearn.datasets import fetch_openml

    Path(cfg.cache_dir).mkdir(parents=True, exist_ok=True)
    what = f"OpenML data set {cfg.name or cfg.openml_id!r}"
    try:
        bunch = fetch_openml(name=cfg.name if cfg.openml_id is None else None, data_id=cfg.openml_id,
                             version=cfg.openml_version or ("active" if cfg.openml_id is None else "active"),
                             data_home=cfg.cache_dir, as_frame=True, parser="auto")
    except Exception as exc:
        raise DataError(f"cannot load {what} (not in the cache {cfg.cache_dir} and not downloadable: {exc}). "
                        "Run once with network access, or point data.cache_dir at a cached copy.") from None
    frame = bunch.frame
    label = cfg.label or (bunch.target_names[0] if bunch.target_names else None)
    if label is None or label not in frame.columns:
        raise DataError(f"{what}: no label column {label!r}")
    cols = list(cfg.features) if cfg.features else [c for c in frame.columns if c != label]
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(f"{what}: no feature column(s) {', '.join(missing)}")
    return frame[cols].to_numpy(dtype=np.float64), frame[label].astype(str).to_numpy(), [str(c) for c in cols]
