"""The space file: valid files load; every kind of bad input gets a message naming the key path and
line, exit status 2 from the CLI, no traceback, and nothing written to the runs folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dse.commands.cli import main
from dse.errors import ConfigError
from dse.space import load_space, parse_space_text
from tests.helpers import quickstart_dict

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "search_spaces" / "quickstart.yaml"


def base() -> dict:
    return quickstart_dict()


def dump(d: dict) -> str:
    return yaml.safe_dump(d, sort_keys=False)


def test_shipped_spaces_are_valid() -> None:
    for path in sorted((ROOT / "search_spaces").glob("*.yaml")):
        space = load_space(path)
        assert space.objectives, path


def test_quickstart_resolves_defaults() -> None:
    space = load_space(QUICKSTART)
    assert space.name == "quickstart"
    assert space.hardware.reuse_factor.choices == (1, 2, 4)
    assert space.model.hidden_layers.values() == [1, 2]
    assert [o.metric for o in space.objectives] == ["accuracy", "dsp", "lut"]
    assert space.directions == ["maximize", "minimize", "minimize"]
    assert str(space.constraints[0]) == "latency_ns <= 200"
    assert space.training.pruner == "none"


def set_key(d: dict, path: str, value: object) -> dict:
    keys = path.split(".")
    cur = d
    for k in keys[:-1]:
        cur = cur.setdefault(k, {})
    cur[keys[-1]] = value
    return d


def del_key(d: dict, path: str) -> dict:
    keys = path.split(".")
    cur = d
    for k in keys[:-1]:
        cur = cur[k]
    del cur[keys[-1]]
    return d


# (description, mutate the quickstart dict, expected key path, expected words in the message)
BAD = [
    ("unknown top key", lambda d: set_key(d, "modle", {}), "modle", "unknown key"),
    ("unknown nested key", lambda d: set_key(d, "hardware.reuse", [1]), "hardware.reuse", "did you mean"),
    ("wrong type", lambda d: set_key(d, "training.epochs", "ten"), "training.epochs", "integer"),
    ("list instead of mapping", lambda d: set_key(d, "hardware", [1, 2]), "hardware", "mapping"),
    ("empty range", lambda d: set_key(d, "model.width", {"low": 64, "high": 8}), "model.width", "reversed"),
    ("empty choices", lambda d: set_key(d, "model.width", []), "model.width", "empty"),
    ("range without high", lambda d: set_key(d, "model.width", {"low": 8}), "model.width", "high"),
    ("bits < 1", lambda d: set_key(d, "quantization.weight_bits", [0, 4]), "quantization.weight_bits[0]", ">= 1"),
    ("bits not int", lambda d: set_key(d, "quantization.activation_bits", 4.5), "quantization.activation_bits",
     "integer"),
    ("width < 1", lambda d: set_key(d, "model.width", [0, 8]), "model.width[0]", ">= 1"),
    ("reuse factor zero", lambda d: set_key(d, "hardware.reuse_factor", [0, 2]), "hardware.reuse_factor[0]",
     "ReuseFactor"),
    ("reuse factor float", lambda d: set_key(d, "hardware.reuse_factor", 1.5), "hardware.reuse_factor",
     "positive integer"),
    ("reuse factor negative", lambda d: set_key(d, "hardware.reuse_factor", -4), "hardware.reuse_factor", ">= 1"),
    ("unknown part", lambda d: set_key(d, "hardware.part", "xc9nothing"), "hardware.part", "xcvu9p"),
    ("unknown objective", lambda d: set_key(d, "objectives", [{"metric": "speed"}]), "objectives[0].metric",
     "must be one of"),
    ("unknown constraint metric", lambda d: set_key(d, "constraints", ["power <= 3"]), "constraints[0]",
     "unknown metric"),
    ("unreadable constraint", lambda d: set_key(d, "constraints", ["dsp is small"]), "constraints[0]",
     "cannot read"),
    ("percent on latency", lambda d: set_key(d, "constraints", ["latency_ns <= 50%"]), "constraints[0]", "%"),
    ("missing data file", lambda d: set_key(d, "data", {"source": "file", "path": "nope.csv", "label": "y"}),
     "data.path", "not found"),
    ("unknown sampler", lambda d: set_key(d, "search.sampler", "cmaes"), "search.sampler", "tpe"),
    ("missing required section", lambda d: del_key(d, "objectives"), "objectives", "required"),
    ("sparsity 1", lambda d: set_key(d, "sparsity.target", [0.5, 1.0]), "sparsity.target[1]", "< 1"),
    ("bad strategy", lambda d: set_key(d, "hardware.strategy", "fast"), "hardware.strategy", "latency"),
    ("unknown sklearn set", lambda d: set_key(d, "data.name", "mnist"), "data.name", "digits"),
    ("workers zero", lambda d: set_key(d, "search.workers", 0), "search.workers", ">= 1"),
    ("boolean as int", lambda d: set_key(d, "training.epochs", True), "training.epochs", "integer"),
]


@pytest.mark.parametrize("desc,mutate,key,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_key(tmp_path: Path, desc: str, mutate, key: str, words: str) -> None:
    text = dump(mutate(base()))
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_space(path)
    assert err.value.path == key, str(err.value)
    assert words.lower() in str(err.value).lower(), str(err.value)
    assert err.value.file == str(path)
    # the line points at the key (or its nearest parent) in the file
    assert err.value.line is not None
    if words == "required":  # a missing key has no line of its own
        return
    line_text = text.splitlines()[err.value.line - 1]
    last = key.split(".")[-1].split("[")[0]
    assert last in line_text or line_text.strip().startswith("-"), (err.value.line, line_text)


@pytest.mark.parametrize("text,words", [
    ("", "empty"),
    ("   \n# only a comment\n", "empty"),
    ("data: [1, 2\nmodel: {", "YAML syntax error"),
    ("- a\n- b\n", "mapping"),
    ("just a string", "mapping"),
    ("data: {source: sklearn, name: digits}\ndata: {source: sklearn, name: iris}\n", "duplicate key"),
])
def test_malformed_files(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_space(path)
    assert words.lower() in str(err.value).lower()


def test_syntax_error_has_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse_space_text("name: x\ndata:\n  source: [sklearn\nmodel: 3\n", file="f.yaml")
    assert err.value.line is not None and err.value.line >= 3
    assert str(err.value).startswith("f.yaml:")


def test_missing_space_file() -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_space("/nonexistent/space.yaml")


BAD_FOR_CLI = [b for b in BAD if b[0] in ("unknown nested key", "empty range", "unknown part", "bits < 1")]


@pytest.mark.parametrize("desc,mutate,key,words", BAD_FOR_CLI, ids=[b[0] for b in BAD_FOR_CLI])
def test_cli_run_bad_input_exit_2_and_writes_nothing(tmp_path: Path, monkeypatch, capsys, desc, mutate, key,
                                                     words) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "space.yaml"
    path.write_text(dump(mutate(base())))
    code = main(["run", str(path), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 2
    assert key in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("argv,words", [
    (["run", "missing.yaml"], "not found"),
    (["run", "search_spaces/quickstart.yaml", "--n-trials", "0"], "positive integer"),
    (["run", "search_spaces/quickstart.yaml", "--workers", "x"], "positive integer"),
    (["validate"], "required"),
])
def test_cli_bad_arguments(tmp_path: Path, monkeypatch, capsys, argv, words) -> None:
    monkeypatch.chdir(ROOT)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert words in err
    assert "Traceback" not in err


def test_validate_prints_summary(capsys) -> None:
    assert main(["validate", str(QUICKSTART)]) == 0
    out = capsys.readouterr().out
    assert "quickstart" in out and "xcvu9p" in out and "maximize accuracy" in out


def test_searchable_forms() -> None:
    d = base()
    d["model"]["width"] = {"low": 8, "high": 64, "step": 8}
    d["training"]["learning_rate"] = {"low": 1e-4, "high": 1e-2, "log": True}
    d["quantization"]["weight_bits"] = {"choices": ["binary", "ternary", 4]}
    space = parse_space_text(dump(d))
    assert space.model.widths[0].values() == [8, 16, 24, 32, 40, 48, 56, 64]
    assert space.training.learning_rate.log
    assert space.quantization.weight_bits.choices == ("binary", "ternary", 4)
    from dse.search.distributions import distribution

    dist = distribution(space.training.learning_rate)
    assert dist.log and dist.low == pytest.approx(1e-4)


def test_percent_constraint_and_mapping_form() -> None:
    d = base()
    d["constraints"] = ["lut <= 50%", {"metric": "dsp", "max": 100}, "accuracy >= 0.9"]
    space = parse_space_text(dump(d))
    c0, c1, c2 = space.constraints
    assert (c0.metric, c0.op, c0.bound, c0.percent) == ("lut", "<=", 50.0, True)
    assert (c1.metric, c1.op, c1.bound, c1.percent) == ("dsp", "<=", 100.0, False)
    assert (c2.metric, c2.op) == ("accuracy", ">=")
