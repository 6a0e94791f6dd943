"""The space file's declared schema: ``dse schema`` is a valid JSON Schema that accepts every
shipped space and refuses what dse refuses; the doc tables are generated from it; keys that
used to slip through unvalidated are refused with file:line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dse.commands.cli import main
from dse.errors import ConfigError
from dse.space import load_space, parse_space_text
from dse.space.docs import update_doc
from tests.helpers import quickstart_dict

ROOT = Path(__file__).resolve().parents[2]
SPACES = sorted((ROOT / "search_spaces").glob("*.yaml"))


def _import_jsonschema() -> Any:
    """jsonschema, imported here rather than at collection: with ``rfc3987_syntax`` installed (jupyterlab
    brings it) ``import jsonschema`` compiles 38 lark grammars for its ``iri`` format checkers, ~2.5 s of
    CPU. Those two formats occur neither in the 2020-12 meta-schema (``check_schema`` checks its ``uri``
    and ``uri-reference`` formats as before) nor in dse's schema, and the validator below annotates
    formats only (the 2020-12 default), so that module is hidden while jsonschema loads; it stays
    importable for everyone else afterwards."""
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    hidden = "rfc3987_syntax" not in sys.modules
    if hidden:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import jsonschema
    finally:
        if hidden:
            del sys.modules["rfc3987_syntax"]
    return jsonschema


@pytest.fixture(scope="module")
def validator() -> Any:
    import contextlib
    import io

    jsonschema = _import_jsonschema()

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["schema"]) == 0
    schema = json.loads(out.getvalue())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def quickstart() -> dict:
    return quickstart_dict()


@pytest.mark.parametrize("path", SPACES, ids=[p.name for p in SPACES])
def test_shipped_spaces_validate_against_the_json_schema(validator, path: Path) -> None:
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


def test_every_written_form_validates_against_the_json_schema(validator) -> None:
    d = quickstart()
    d["model"]["width"] = {"low": 8, "high": 64, "step": 8}
    d["training"]["learning_rate"] = {"low": 1e-4, "high": 1e-2, "log": True}
    d["training"]["early_stopping"] = False
    d["quantization"]["weight_bits"] = {"choices": ["binary", "ternary", 4]}
    d["quantization"]["bias_bits"] = "same_as_weight"
    d["hardware"]["strategy"] = ["latency", "resource"]
    d["hardware"]["tool_version"] = 2023.2
    d["objectives"] = ["accuracy", {"metric": "lut"}, {"metric": "dsp", "direction": "minimize"}]
    d["constraints"] = ["lut <= 50%", {"metric": "dsp", "max": 100}, {"metric": "ff", "max": "20%"}]
    d["synthesis"] = {"backend": "vitis", "resources": {"hls_tool": 1}, "timeout": 600}
    parse_space_text(yaml.safe_dump(d))  # dse accepts it ...
    assert [e.message for e in validator.iter_errors(d)] == []  # ... and so does the JSON Schema


REFUSED = [
    ("openml features as a string", lambda d: d.update(data={"source": "openml", "name": "x", "features": "pt"}),
     "data.features", "list"),
    ("tool_version as a mapping", lambda d: d["hardware"].update(tool_version={"a": 1}), "hardware.tool_version",
     "string"),
    ("cache_dir as a list", lambda d: d["data"].update(cache_dir=["x"]), "data.cache_dir", "string"),
    ("unknown key", lambda d: d["hardware"].update(reuse=[1]), "hardware.reuse", "did you mean"),
    ("bits < 1", lambda d: d["quantization"].update(weight_bits=[0, 4]), "quantization.weight_bits[0]", ">= 1"),
    ("bad sampler", lambda d: d["search"].update(sampler="cmaes"), "search.sampler", "tpe"),
    ("constraint mapping typo", lambda d: d.update(constraints=[{"metric": "dsp", "mx": 3}]), "constraints[0].mx",
     "did you mean 'max'"),
]


@pytest.mark.parametrize("desc,mutate,key,words", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_by_dse_and_by_the_json_schema(validator, tmp_path: Path, capsys, desc, mutate, key,
                                                 words) -> None:
    d = quickstart()
    mutate(d)
    path = tmp_path / "space.yaml"
    text = yaml.safe_dump(d, sort_keys=False)
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_space(path)
    assert err.value.path == key and words in str(err.value), str(err.value)
    assert err.value.line is not None
    line_text = text.splitlines()[err.value.line - 1]
    assert key.split(".")[-1].split("[")[0] in line_text or line_text.strip().startswith("-"), line_text
    assert main(["validate", str(path)]) == 2
    stderr = capsys.readouterr().err
    assert f"{path}:{err.value.line}: {key}:" in stderr and "Traceback" not in stderr
    assert list(validator.iter_errors(d)), "the JSON Schema should refuse it too"


def test_doc_tables_are_generated_from_the_schema() -> None:
    doc = (ROOT / "docs" / "space_file.md").read_text()
    assert "<!-- generated: hardware -->" in doc
    assert update_doc(doc) == doc, "run: python -m dse.space.docs docs/space_file.md"


def test_markdown_tables_state_each_default(capsys) -> None:
    assert main(["schema", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| `clock_period_ns` | `5` |" in out
    assert "| `early_stopping` | `{patience: 5}` |" in out
    assert "| `part` | required |" in out


def test_resolved_space_round_trip() -> None:
    """The resolved space (written to the run folder) keeps the reading names and is stable."""
    space = load_space(ROOT / "search_spaces" / "jet_tagging.yaml")
    d = space.to_dict()
    assert d["data"]["val_fraction"] == 0.2 and d["data"]["seed"] == 42
    assert d["training"]["early_stopping_patience"] == 5
    assert d["search"]["timeout_s"] is None and d["synthesis"]["timeout_s"] == 4 * 3600.0
    assert d["model"]["widths"] == [64, 32, 32]
    assert space.data.cache_dir.endswith("search_spaces/data_cache")
    assert space.source_file is not None and space.source_file.endswith("jet_tagging.yaml")
    assert space == load_space(ROOT / "search_spaces" / "jet_tagging.yaml")
    assert hash(space) == hash(load_space(ROOT / "search_spaces" / "jet_tagging.yaml"))
