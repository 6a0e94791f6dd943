"""The contract every synthesis backend keeps, run on every registered backend (the built-ins
and any plug-in installed through the ``dse.synthesis_backends`` entry points), in the manner
of optuna/testing/pytest_samplers.py.

The tool-running part uses the stand-in tool (tests/standin/fake_hls.py), installed under
each backend's ``executable_names``; it writes reports in the real Vitis HLS format.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import yaml

from dse.design.candidate import Candidate
from dse.design.hls4ml_adapter import HLS4ML_BACKENDS
from dse.errors import ReportMissing, ReportUnreadable, SynthesisFailed, SynthesisTimeout, ToolNotFoundError
from dse.space import parse_space_text
from dse.space.schema import BUILTIN_SYNTHESIS_BACKENDS, synthesis_backend_names
from dse.synthesis import BUILTIN_BACKENDS, SynthesisBackend, SynthesisJob, backend_names, get_backend
from tests.helpers import STANDIN, install_fake_tool, tiny_space_dict

BACKENDS = backend_names()
STANDIN_BACKENDS = [b for b in BACKENDS if get_backend(b).family() != "yosys"]
"""The backends the stand-in HLS tool can play (yosys runs for real: tests/integration/test_yosys_backend.py)."""

_spec = importlib.util.spec_from_file_location("fake_hls", STANDIN)
assert _spec is not None and _spec.loader is not None
fake_hls = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_hls)

CAND = Candidate.mlp(widths=(8,), weight_bits=(12, 16), bias_bits=(12, 16), activation_bits=(8,), sparsity=(0, 0),
                     reuse_factor=(2, 1), strategy="latency", learning_rate=0.01)


def test_builtins_are_registered_and_selectable_in_the_space_file() -> None:
    assert tuple(b.name for b in BUILTIN_BACKENDS) == BUILTIN_SYNTHESIS_BACKENDS
    assert set(BUILTIN_SYNTHESIS_BACKENDS) <= set(BACKENDS)
    assert set(BACKENDS) <= set(synthesis_backend_names())


def job(tmp_path: Path, name: str, model_h5: bytes = b"", hls_config: dict | None = None,
        timeout_s: float = 120.0) -> SynthesisJob:
    return SynthesisJob(trial=0, model_h5=model_h5, hls_config=hls_config or {}, part="xcvu9p-flga2104-2L-e",
                        clock_period_ns=5.0, io_type="io_parallel", job_dir=str(tmp_path / "job"), backend=name,
                        timeout_s=timeout_s)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> SynthesisBackend:
    return get_backend(request.param)


def test_declares_its_identity(backend: SynthesisBackend) -> None:
    assert isinstance(backend, SynthesisBackend)
    assert get_backend(backend.name).__class__ is backend.__class__
    assert backend.executable_names and all(isinstance(n, str) and n for n in backend.executable_names)
    assert backend.hls4ml_backend in HLS4ML_BACKENDS.values()
    assert isinstance(backend.family(), str) and backend.family()
    assert backend.strategies is None or all(isinstance(x, str) for x in backend.strategies)


def test_missing_tool_is_named(backend: SynthesisBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolNotFoundError) as err:
        backend.find_executable()
    assert all(n in str(err.value) for n in backend.executable_names)


def test_command_runs_the_given_executable(backend: SynthesisBackend, tmp_path: Path) -> None:
    argv = backend.command("/opt/tool/bin/x", job(tmp_path, backend.name), tmp_path)
    assert argv[0] == "/opt/tool/bin/x" and all(isinstance(a, str) for a in argv)


# --------------------------------------------------------------------------- with the stand-in tool


@pytest.fixture(scope="module")
def design(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict]:
    """An (untrained, random-weight) QKeras model as HDF5 bytes, and its hls4ml config."""
    from dse.training.model_builder import build_model

    space = parse_space_text(yaml.safe_dump(tiny_space_dict()))
    model = build_model(CAND, space, input_shape=16, n_classes=4)
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if layer.get_weights():
            w, b = layer.get_weights()
            layer.set_weights([rng.uniform(-0.9, 0.9, w.shape), b])
    path = tmp_path_factory.mktemp("design") / "model.h5"
    model.save(path)
    return path.read_bytes(), CAND.to_hls_config(space)


@pytest.fixture(params=STANDIN_BACKENDS)
def hls_backend(request: pytest.FixtureRequest) -> SynthesisBackend:
    return get_backend(request.param)


@pytest.fixture
def tool(hls_backend: SynthesisBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    return install_fake_tool(tmp_path / "bin", monkeypatch, hls_backend.executable_names)


@pytest.mark.slow
def test_synthesize_reports_the_tools_figures(hls_backend, tool, design, tmp_path: Path) -> None:
    backend = hls_backend
    j = job(tmp_path, backend.name, *design)
    result = backend.synthesize(j)
    project = Path(j.job_dir) / "hls4ml_prj"
    truth = fake_hls.figures(fake_hls.read_layers(project))
    assert result.trial == 0 and result.tool == backend.name
    assert (result.measured["dsp"], result.measured["lut"], result.measured["ff"]) == (
        truth["dsp"], truth["lut"], truth["ff"])
    assert result.measured["latency_cycles"] == truth["latency"]
    assert result.measured["latency_ns"] == pytest.approx(truth["latency"] * 5.0)
    assert f"in {project}" in (Path(j.job_dir) / "synthesis.log").read_text()  # ran in the project folder


@pytest.mark.slow
@pytest.mark.parametrize("mode,error", [("fail", SynthesisFailed), ("noreport", ReportMissing),
                                        ("garbage", ReportUnreadable), ("hang", SynthesisTimeout)])
def test_failures_raise_typed_errors(hls_backend, tool, design, tmp_path: Path, mode: str, error: type) -> None:
    backend = hls_backend
    tool.set_mode(mode)
    # a tool that hangs is killed at the timeout, which the test waits out: 1 s; the others finish in well under 3 s
    j = job(tmp_path, backend.name, *design, timeout_s=1.0 if mode == "hang" else 3.0)
    with pytest.raises(error):
        backend.synthesize(j)
    if mode == "fail":
        with pytest.raises(SynthesisFailed) as err:
            backend.synthesize(j)
        assert err.value.returncode == 3


# --------------------------------------------------------------------------- plug-ins by entry point


def test_plugins_are_found_by_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package that declares ``dse.synthesis_backends`` entry points adds backends by name;
    a broken one is refused with its reason when selected, and never breaks the others."""
    import sys

    from dse.errors import BackendPluginError
    from dse.synthesis import base

    (tmp_path / "my_backends.py").write_text(
        "from dse.synthesis.hls4ml_backends import VivadoBackend\n"
        "class LabBackend(VivadoBackend):\n    name = 'lab'\n    executable_names = ('lab_hls',)\n")
    dist = tmp_path / "my_backends-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-backends\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[dse.synthesis_backends]\nlab = my_backends:LabBackend\nbroken = my_backends:Missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(base, "_plugins_loaded", False)
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    monkeypatch.setattr(base, "_BROKEN_PLUGINS", {})
    try:
        assert "lab" in backend_names() and "broken" not in backend_names()
        assert get_backend("lab").executable_names == ("lab_hls",)
        with pytest.raises(BackendPluginError, match="broken"):
            get_backend("broken")
        d = tiny_space_dict()
        d["synthesis"] = {"backend": "lab"}
        assert parse_space_text(yaml.safe_dump(d)).synthesis.backend == "lab"
        d["synthesis"] = {"backend": "labb"}
        with pytest.raises(Exception, match="did you mean 'lab'"):
            parse_space_text(yaml.safe_dump(d))
    finally:
        sys.modules.pop("my_backends", None)


# --------------------------------------------------------------------------- calibration by tool family


def _records(tool: str, family: str, factor: float) -> list:
    """Five synthesized designs whose measured LUTs are ``factor`` times the analytic estimate."""
    from cost_models import FixedType, LayerSpec, Target, analytic_totals
    from dse.store import SynthesisRecord

    out = []
    for i, (n_in, n_out, w) in enumerate([(16, 8, 4), (16, 16, 6), (32, 8, 5), (8, 8, 8), (24, 12, 3)]):
        layers = [LayerSpec("input", "input", n_in, n_in, FixedType(16, 6)),
                  LayerSpec("fc0", "dense", n_in, n_out, FixedType(16, 6), weight=FixedType(w, 1),
                            accum=FixedType(24, 10), n_zeros=i)]
        est, _ = analytic_totals(layers, Target("xcvu9p-flga2104-2L-e", 5.0, family))
        measured = {k: float(v) * (factor if k == "lut" else 1.0) for k, v in est.items()}
        out.append((layers, SynthesisRecord(trial=i, status="ok", measured=measured, tool=tool, tool_family=family,
                                            part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0)))
    return out


def test_a_plugin_backend_calibrates_its_own_tool_family_like_a_builtin(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend from the entry point declares its tool family; its records calibrate estimates of that
    family (the run's cost target when it is the synthesis backend) and never another family's."""
    import sys

    from cost_models import estimate
    from dse.synthesis import base
    from dse.synthesis.records import cost_target, fit_calibration

    (tmp_path / "lab_backends.py").write_text(
        "from dse.synthesis.hls4ml_backends import VivadoBackend\n"
        "class LabBackend(VivadoBackend):\n    name = 'labsynth'\n    tool_family = 'lab'\n"
        "    executable_names = ('lab_hls',)\n")
    dist = tmp_path / "lab_backends-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lab-backends\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[dse.synthesis_backends]\nlabsynth = lab_backends:LabBackend\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(base, "_plugins_loaded", False)
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    monkeypatch.setattr(base, "_BROKEN_PLUGINS", {})
    try:
        assert get_backend("labsynth").family() == "lab"
        d = tiny_space_dict()
        d["synthesis"] = {"backend": "labsynth"}
        space = parse_space_text(yaml.safe_dump(d))
        lab_target = cost_target(space)
        assert lab_target.backend == "lab" and lab_target.part == space.hardware.part
        d["synthesis"] = {"backend": "none"}
        vendor_target = cost_target(parse_space_text(yaml.safe_dump(d)))
        assert vendor_target.backend == space.hardware.backend

        examples = _records("labsynth", "lab", 2.0)
        cal = fit_calibration(examples, lab_target)
        layers = examples[0][0]
        lab = estimate(layers, lab_target, cal)
        assert lab.calibrated and str(lab.calibration_level).startswith("lab|")
        raw = estimate(layers, lab_target, None)
        assert lab.lut == pytest.approx(2.0 * raw.analytic["lut"], rel=0.15)
        vendor = estimate(layers, vendor_target, cal)  # vitis: no record of its family in this calibration
        assert not vendor.calibrated and vendor.lut == pytest.approx(vendor.analytic["lut"])
    finally:
        sys.modules.pop("lab_backends", None)


def test_yosys_records_calibrate_the_yosys_family_only() -> None:
    from cost_models import Target, estimate
    from dse.synthesis.records import fit_calibration

    yosys = Target("xcvu9p-flga2104-2L-e", 5.0, "yosys")
    vitis = Target("xcvu9p-flga2104-2L-e", 5.0, "vitis")
    cal = fit_calibration(_records("yosys", "yosys", 1.5), yosys)
    layers = _records("yosys", "yosys", 1.5)[1][0]
    assert estimate(layers, yosys, cal).calibrated
    assert not estimate(layers, vitis, cal).calibrated
    vendor_cal = fit_calibration(_records("vitis", "vitis", 0.5), vitis)
    assert estimate(layers, vitis, vendor_cal).calibrated and not estimate(layers, yosys, vendor_cal).calibrated
