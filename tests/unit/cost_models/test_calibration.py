from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
from pathlib import Path

import pytest

from cost_models import Calibration, CalibrationError, SynthesisRecord, analytic_totals, estimate
from cost_models.calibration import features
from cost_models.constants import DEFAULT_CONSTANTS
from cost_models.layers import ConvGeometry, FixedType, LayerSpec
from cost_models.records import METRICS
from tests.unit.cost_models.cm_helpers import TARGET, jet_model


def _record(scale: dict[str, float] | None = None, seed: int = 0, w: int = 8, rf: int = 1,
            tool: str = "vitis", version: str = "2021.1", part: str = "xcvu9p-flga2104-2L-e") -> SynthesisRecord:
    """A synthetic record: the analytic totals times ``scale`` (with seeded log-normal noise)."""
    rng = random.Random(seed)
    layers = jet_model(w=w, rf=rf)
    pred, _ = analytic_totals(layers, TARGET)
    scale = scale or {}
    vals = {m: max(1.0, v * scale.get(m, 1.0) * math.exp(rng.gauss(0, 0.05))) for m, v in pred.items()}
    return SynthesisRecord(tool=tool, tool_version=version, part=part, clock_period_ns=5.0, layers=layers,
                           source=f"synthetic{seed}", **vals)


def test_zero_records_is_identity_with_default_intervals() -> None:
    cal = Calibration.fit([])
    layers = jet_model(w=8)
    plain, calibrated = estimate(layers, TARGET, Calibration()), estimate(layers, TARGET, calibration=cal)
    assert calibrated.dsp == pytest.approx(plain.dsp)
    assert calibrated.lut == pytest.approx(plain.lut)
    lo, hi = plain.intervals["lut"].low, plain.intervals["lut"].high
    assert lo < plain.lut < hi
    # uncalibrated: the 80 % interval of the log is +-1.28 sigma of the model's held-out spread
    sigma = dict(DEFAULT_CONSTANTS.for_target(TARGET).log_sigma)["lut"]
    assert math.log((hi + 200) / (plain.lut + 200)) == pytest.approx(1.2816 * sigma, rel=1e-3)
    assert not calibrated.calibrated and any("uncalibrated" in n for n in calibrated.notes)


def test_one_record_moves_part_of_the_way() -> None:
    cal = Calibration.fit([_record({"lut": 2.0})])
    est = estimate(jet_model(w=8), TARGET, calibration=cal)
    ratio = est.lut / est.analytic["lut"]
    assert 1.05 < ratio < 2.0  # shrunk toward identity
    # same architecture as the record: the architecture level of its tool|version|family group
    assert est.calibrated and (est.calibration_level or "").startswith("vitis|2021.1|virtexuplus|mlp|arch:")


def test_many_records_learn_the_scale_and_cover() -> None:
    recs = [_record({"lut": 2.0, "dsp": 0.5}, seed=i, w=rng_w, rf=rf)
            for i, (rng_w, rf) in enumerate([(w, rf) for w in (6, 8, 10, 12, 16) for rf in (1, 2, 4, 8)])]
    cal = Calibration.fit(recs)
    hit = 0
    for r in recs:
        assert r.layers is not None
        est = estimate(r.layers, TARGET, calibration=cal)
        assert est.lut == pytest.approx(r.lut, rel=0.2)
        hit += est.intervals["lut"].low <= float(r.lut or 0) <= est.intervals["lut"].high
    assert hit / len(recs) >= 0.75


def test_hierarchy_only_same_tool_and_family() -> None:
    cal = Calibration.fit([_record({"lut": 2.0}, seed=i) for i in range(10)])
    other_version = TARGET.__class__(part=TARGET.part, backend="vitis", tool_version="2024.1")
    assert estimate(jet_model(), other_version, calibration=cal).calibration_level == "vitis|virtexuplus|mlp"
    # another tool (or part family): identity with the default interval, never a foreign correction
    vivado = TARGET.__class__(part=TARGET.part, backend="vivado", tool_version="2020.1")
    est, plain = estimate(jet_model(), vivado, calibration=cal), estimate(jet_model(), vivado, Calibration())
    assert est.calibration_level is None and not est.calibrated
    assert est.lut == pytest.approx(plain.lut)
    assert est.intervals["lut"] == plain.intervals["lut"]
    zynq = TARGET.__class__(part="xc7z020clg400-1", backend="vitis", tool_version="2021.1")
    assert estimate(jet_model(), zynq, calibration=cal).calibration_level is None


def _other_arch(rec: SynthesisRecord, n: int) -> SynthesisRecord:
    """The same record with a different (fake) architecture signature: one extra dense width."""
    assert rec.layers is not None
    layers = [dataclasses.replace(s, n_out=s.n_out + n) if i == 1 else s for i, s in enumerate(rec.layers)]
    return dataclasses.replace(rec, layers=layers)


def test_disagreeing_architectures_shrink_to_identity() -> None:
    # 6 architectures whose LUT ratios disagree (x0.5 .. x2): no consistent correction for a new one
    scales = [0.5, 2.0, 0.6, 1.8, 0.55, 1.9]
    recs = [_other_arch(_record({"lut": sc}, seed=10 * i + j, rf=rf), i + 1)
            for i, sc in enumerate(scales) for j, rf in enumerate((1, 2))]
    cal = Calibration.fit(recs)
    g = cal.groups["vitis|2021.1|virtexuplus|mlp"]["lut"]
    assert g.lam <= 0.3 and abs(g.mu) < 0.1
    assert g.sigma > 0.4  # the held-out spread is large: wide intervals
    # architectures that agree (all x1.5) get most of the way
    agree = [_other_arch(_record({"lut": 1.5}, seed=i), i + 1) for i in range(6)]
    g2 = Calibration.fit(agree).groups["vitis|2021.1|virtexuplus|mlp"]["lut"]
    assert g2.lam >= 0.8 and g2.mu == pytest.approx(math.log(1.5), abs=0.1)


def test_never_fits_on_other_tools_records() -> None:
    recs = [_other_arch(_record({"lut": 3.0}, seed=i, tool="vivado", version="2020.1"), i + 1) for i in range(6)]
    cal = Calibration.fit(recs)
    est = estimate(jet_model(), TARGET, calibration=cal)
    assert est.calibration_level is None and est.lut == pytest.approx(est.analytic["lut"])


def test_format_versions(tmp_path: Path) -> None:
    legacy = {"format": "cost_models.calibration/1", "n_records": 3,
              "groups": {"vitis": {m: {"mu": math.log(2.0), "sigma": 0.1, "n": 3, "k": 3.0} for m in ("dsp", "lut")}}}
    p = tmp_path / "v1.json"
    p.write_text(json.dumps(legacy))
    cal = Calibration.load(p)
    est = estimate(jet_model(), TARGET, calibration=cal)  # format 1: old tool -> global lookup
    assert est.calibration_level == "vitis" and est.lut == pytest.approx(2 * est.analytic["lut"] + 200, rel=1e-6)
    # format 2: groups without the design class still apply, with the keys they were fitted with
    v2 = {"format": "cost_models.calibration/2", "n_records": 3,
          "groups": {"vitis|2021.1|virtexuplus": {m: {"mu": math.log(2.0), "sigma": 0.1, "n": 3, "k": 3.0}
                                                  for m in ("dsp", "lut")}}}
    p.write_text(json.dumps(v2))
    est = estimate(jet_model(), TARGET, calibration=Calibration.load(p))
    assert est.calibration_level == "vitis|2021.1|virtexuplus"
    assert est.lut == pytest.approx(2 * est.analytic["lut"] + 200, rel=1e-6)
    p.write_text(json.dumps({**legacy, "format": "cost_models.calibration/99"}))
    with pytest.raises(CalibrationError, match="unsupported calibration format version"):
        Calibration.load(p)


def test_bad_records_are_filtered_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    good = [_record({"lut": 1.5}, seed=i) for i in range(6)]
    bad = [
        SynthesisRecord(**{**good[0].__dict__, "status": "failed", "source": "failed"}),
        SynthesisRecord(**{**good[0].__dict__, "lut": float("nan"), "source": "nan"}),
        SynthesisRecord(**{**good[0].__dict__, "lut": 0.0, "ff": 0.0, "source": "zeros"}),
        SynthesisRecord(**{**good[0].__dict__, "dsp": -3.0, "source": "negative"}),
        SynthesisRecord(**{**good[0].__dict__, "layers": None, "source": "nolayers"}),
        SynthesisRecord(**{**good[0].__dict__, "lut": 1e12, "source": "absurd"}),
        SynthesisRecord(**{**good[0].__dict__, "part": "xc9nonsense", "source": "badpart"}),
    ]
    with caplog.at_level(logging.WARNING, logger="cost_models.calibration"):
        cal = Calibration.fit(good + bad)
    ref = Calibration.fit(good)
    key = "vitis|2021.1|virtexuplus|mlp"
    assert cal.groups[key]["lut"].mu == pytest.approx(ref.groups[key]["lut"].mu)
    assert {r["source"] for r in cal.rejected} >= {"failed", "nan", "zeros", "negative", "nolayers", "absurd"}
    assert "absurd" in caplog.text


def test_save_load_round_trip_and_errors(tmp_path: Path) -> None:
    cal = Calibration.fit([_record({"dsp": 0.7}, seed=i) for i in range(4)])
    path = cal.save(tmp_path / "sub" / "calibration.json")
    assert not list(path.parent.glob("*.tmp"))
    back = Calibration.load(path)
    assert back.to_dict() == json.loads(json.dumps(cal.to_dict()))
    e1 = estimate(jet_model(), TARGET, calibration=cal).to_dict()
    e2 = estimate(jet_model(), TARGET, calibration=back).to_dict()
    assert e1 == e2
    for text in ("{not json", json.dumps({"format": "other"}), json.dumps({"format": "cost_models.calibration/1",
                                                                          "groups": {"g": {"dsp": {"mu": "x"}}}})):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(CalibrationError, match="bad.json"):
            Calibration.load(bad)
    with pytest.raises(CalibrationError, match="not found"):
        Calibration.load(tmp_path / "missing.json")


def test_fit_from_shared_dirs(shared_reports: Path) -> None:
    from cost_models import fit_calibration_from_dirs

    cal = fit_calibration_from_dirs([shared_reports / "ArgyKokk+hls4ml_MLP_estimator" / "HLS_MLPs" / "CARDIO"])
    assert cal.n_records == 6
    assert "vitis|2021.1|zynq7|mlp" in cal.groups


def _conv_layers(n_filt: int) -> list[LayerSpec]:
    """A small Conv2D + Dense design (8x8x1 input, 3x3 kernel, ``n_filt`` filters)."""
    geom = ConvGeometry(8, 8, 1, 3, 3, n_filt, 6, 6)
    t = FixedType(16, 6)
    return [LayerSpec("input", "input", 64, 64, t),
            LayerSpec("conv", "conv2d", 9, n_filt, t, weight=FixedType(8, 2), conv=geom),
            LayerSpec("fc", "dense", 36 * n_filt, 10, t, weight=FixedType(8, 2))]


def _cnn_record(n_filt: int, dsp_scale: float, seed: int = 0) -> SynthesisRecord:
    layers = _conv_layers(n_filt)
    pred, _ = analytic_totals(layers, TARGET)
    vals = {m: max(1.0, pred[m]) for m in METRICS}
    vals["dsp"] = max(1.0, pred["dsp"]) * dsp_scale
    return SynthesisRecord(tool="vitis", tool_version="2021.1", part=TARGET.part, clock_period_ns=5.0,
                           layers=layers, source=f"cnn{n_filt}-{seed}", **vals)


def test_corrections_never_cross_design_classes() -> None:
    # many MLP architectures that agree on x0.4 DSP: a CNN estimate stays analytic (and the other way)
    mlps = [_other_arch(_record({"dsp": 0.4}, seed=i), i + 1) for i in range(6)]
    cal = Calibration.fit(mlps)
    assert estimate(_other_arch(mlps[0], 50).layers or [], TARGET, calibration=cal).dsp < \
        0.6 * estimate(_other_arch(mlps[0], 50).layers or [], TARGET, Calibration()).dsp
    cnn = estimate(_conv_layers(8), TARGET, calibration=cal)
    assert cnn.calibration_level is None and cnn.dsp == pytest.approx(cnn.analytic["dsp"])
    cnns = Calibration.fit([_cnn_record(n, 0.4) for n in (4, 6, 8, 12, 16)])
    mlp = estimate(jet_model(), TARGET, calibration=cnns)
    assert mlp.calibration_level is None and mlp.dsp == pytest.approx(mlp.analytic["dsp"])
    assert "vitis|2021.1|virtexuplus|cnn" in cnns.groups


def test_one_cnn_never_rescales_another() -> None:
    cal = Calibration.fit([_cnn_record(4, 0.41, seed=i) for i in range(3)])
    own = estimate(_conv_layers(4), TARGET, calibration=cal)
    # its own architecture: corrected part of the way (3 records against 3 pseudo-records of the identity)
    assert 0.41 * own.analytic["dsp"] < own.dsp < 0.8 * own.analytic["dsp"]
    other = estimate(_conv_layers(16), TARGET, calibration=cal)
    assert other.dsp == pytest.approx(other.analytic["dsp"])  # another architecture: not rescaled


# --------------------------------------------------------------------------- the ridge solve (numpy)


def test_ridge_solve_solves_the_normal_equations() -> None:
    from cost_models.calibration import _solve

    rng = random.Random(3)
    for p in (1, 2, 3, 5):
        rows = [[rng.gauss(0, 1) for _ in range(p)] for _ in range(p + 4)]
        a = [[sum(r[i] * r[k] for r in rows) + (0.1 if i == k else 0.0) for k in range(p)] for i in range(p)]
        b = [rng.gauss(0, 1) for _ in range(p)]
        x = _solve(a, b)
        assert len(x) == p and all(isinstance(v, float) for v in x)
        for i in range(p):
            assert sum(a[i][k] * x[k] for k in range(p)) == pytest.approx(b[i], abs=1e-9)


def test_prior_interval_is_never_narrower_than_the_held_out_spread() -> None:
    """A prior fitted on other repositories (in-sample group spread) keeps at least the analytic model's
    held-out width; a run's own calibration keeps its narrower in-sample width."""
    from cost_models.constants import Constants

    recs = [_record(seed=i, scale={"lut": 1.3}) for i in range(8)]
    wide = Constants(log_sigma=(("lut", 0.6),), support=(("virtexuplus", 4),))
    layers = jet_model(w=8)
    widths = {}
    for source in ("prior", "run"):
        cal = Calibration.fit(recs, constants=wide, source=source)
        est = estimate(layers, TARGET, calibration=cal, constants=wide)
        assert est.calibrated
        widths[source] = math.log((est.intervals["lut"].high + 200) / (est.intervals["lut"].low + 200))
    assert widths["prior"] == pytest.approx(2 * 1.2816 * 0.6, rel=1e-3)
    assert widths["run"] < 0.5 * widths["prior"]


def test_plan_follows_the_architecture_and_class_of_each_call() -> None:
    """The plan memo (per target object and design class) never hands one design another's correction: calls
    alternate architectures and classes with one target object, and each agrees with its own look-up."""
    cal = Calibration.fit([_cnn_record(4, 0.41, seed=i) for i in range(3)]
                          + [_other_arch(_record({"dsp": 0.4}, seed=i), i + 1) for i in range(6)])
    designs = [_conv_layers(4), _conv_layers(16), jet_model(), _conv_layers(4), jet_model(w=8), _conv_layers(16)]
    for layers in designs:
        totals, _ = analytic_totals(layers, TARGET)
        out, bounds, level = cal.apply(totals, TARGET, layers)
        for m in METRICS:
            corr, key = cal.lookup(TARGET, m, layers)
            mid, lo, hi = corr.apply(m, totals[m], features(layers, m, totals[m]) if corr.beta else None)
            if m in ("latency_cycles", "ii"):
                mid, lo, hi = max(mid, 1.0), max(lo, 1.0), max(hi, 1.0)
            assert (out[m], bounds[m]) == (mid, (lo, hi)), m
            if m == "dsp":
                assert level == key
    assert any(c.beta for g in cal.groups.values() for c in g.values())  # a log-linear correction is among them
    own, other = (estimate(layers, TARGET, calibration=cal) for layers in (_conv_layers(4), _conv_layers(16)))
    assert own.dsp < 0.8 * own.analytic["dsp"] and other.dsp == pytest.approx(other.analytic["dsp"])
