"""CNN designs: candidate <-> Optuna params <-> hls4ml config round trips (1D and 2D, io_parallel and
io_stream), the tensor shape flow and its refusals, and the space's refusal of kernels/pools that leave
no pixel (with the key path). ParallelizationFactor, conv ReuseFactor and output sizes compared with
hls4ml's own code: tests/integration/test_rules_vs_hls4ml.py."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml

from dse.design.candidate import Candidate, suggest_candidate
from dse.design.conv_kinds import Conv, snap_parallelization_factor
from dse.design.layer_kind import InfeasibleDesign
from dse.design.prebuild import check_shapes, prebuild_layers, snapped_reuse_factors
from dse.errors import ConfigError
from dse.space import parse_space_text
from tests.helpers import quickstart_dict, set_by_path

ROOT = Path(__file__).resolve().parents[2]


def cnn_space_dict(**over: object) -> dict:
    d = quickstart_dict()
    d["model"] = {"type": "cnn", "hidden_layers": [0, 1], "width": [8, 16],
                  "conv": {"blocks": [1, 2], "filters": [2, 4, 8], "kernel_size": [1, 2, 3], "stride": [1, 2],
                           "padding": ["valid", "same"], "pooling": ["none", "max", "average"],
                           "pool_size": [2], "head": ["flatten", "global_max", "global_average"]}}
    d["hardware"]["io_type"] = ["io_parallel", "io_stream"]
    d["hardware"]["parallelization_factor"] = [1, 2, 3, 4]
    d["hardware"]["strategy"] = ["latency", "resource"]
    return set_by_path(d, over)


def cnn_space(**over: object):
    return parse_space_text(yaml.safe_dump(cnn_space_dict(**over)))


FIXED = {"quantization__weight_bits": 6, "quantization__activation_bits": 6, "sparsity__target": 0.0,
         "hardware__reuse_factor": 1, "hardware__strategy": "latency", "hardware__parallelization_factor": 1,
         "hardware__conv_implementation": "linebuffer", "model__hidden_layers": 1, "model__width": 8}
"""Every knob but the structure fixed: one candidate per space."""


CNN_SPACES = {
    "cnn_shared": cnn_space(),
    "cnn_per_layer": cnn_space(quantization__per_layer=True, sparsity__per_layer=True,
                               hardware__per_layer_reuse=True, quantization__bias_bits=[4, 8],
                               hardware__backend="vivado", hardware__conv_implementation=["linebuffer", "encoded"],
                               model__conv__per_block=[{}, {"filters": [8, 16], "pool_size": [2, 3],
                                                            "pooling": ["none", "average"]}]),
    "cnn_fixed": cnn_space(model__conv={"blocks": 2, "filters": 4, "kernel_size": 3, "padding": "same",
                                        "pooling": "max", "head": "flatten"},
                           hardware__io_type="io_stream", **FIXED),
}


def sampled(space, n: int, seed: int) -> list[Candidate]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=space.directions, sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        cand = suggest_candidate(trial, space)
        assert cand.to_params(space) == trial.params
        out.append(cand)
        study.tell(trial, [0.5] * len(space.objectives))
    return out


@pytest.mark.parametrize("name", list(CNN_SPACES))
def test_cnn_params_stored_form_and_hls_config_round_trip(name: str) -> None:
    space = CNN_SPACES[name]
    seen_io, seen_blocks = set(), set()
    for cand in sampled(space, 40, seed=3):
        assert cand.architecture == "cnn"
        assert Candidate.from_params(cand.to_params(space), space) == cand
        stored = json.loads(json.dumps(cand.to_dict()))
        assert stored["architecture"] == "cnn" and stored["io_type"] == cand.io_type
        assert Candidate.from_dict(stored) == cand
        cfg = json.loads(json.dumps(cand.to_hls_config(space)))
        assert Candidate.from_hls_config(cfg, like=cand) == cand
        names = [la.name for la in cand.layers]
        convs = [la for la in cand.layers if isinstance(la, Conv)]
        assert names[:2] == ["conv0", "cact0"] and names[-2:] == ["out", "out_act"]
        assert ("flatten" in names) != ("gpool" in names)
        for c in convs:  # the knob that does not apply to the io_type is pinned out
            entry = cfg["LayerName"][c.name]
            if cand.io_type == "io_stream":
                assert c.parallelization_factor is None and "ParallelizationFactor" not in entry
                assert entry["ConvImplementation"] in ("LineBuffer", "Encoded")
            else:
                assert c.conv_implementation is None and "ConvImplementation" not in entry
                assert entry["ParallelizationFactor"] == c.parallelization_factor
        seen_io.add(cand.io_type)
        seen_blocks.add(len(convs))
    if name == "cnn_fixed":
        assert seen_io == {"io_stream"} and seen_blocks == {2}
    else:
        assert seen_io == {"io_parallel", "io_stream"} and seen_blocks == {1, 2}


def test_shape_flow_2d_and_1d() -> None:
    space = CNN_SPACES["cnn_fixed"]
    (cand,) = set(sampled(space, 3, seed=1))
    specs = prebuild_layers(cand, space, (8, 8, 1), 10)
    by = {s.name: s for s in specs}
    # io_stream, padding same with kernel 3: hls4ml inserts a ZeroPadding layer before each conv
    assert by["zp2d_conv0"].n_out == 10 * 10 * 1 and by["conv0"].conv.in_width == 10
    assert by["conv0"].n_in == 9 and by["conv0"].n_out == 4 and by["conv0"].conv.out_pixels == 64
    assert by["pool0"].n_out == 4 * 4 * 4 and by["conv1"].n_in == 36
    assert by["pool1"].n_out == 2 * 2 * 4 and by["flatten"].n_in == 16 and by["fc0"].n_in == 16
    one_d = prebuild_layers(cand, space, (32, 3), 10)
    assert {s.kind for s in one_d} >= {"conv1d", "pooling1d", "zeropadding1d"}
    assert [s.name for s in one_d if s.kind == "dense"] == ["fc0", "out"]
    assert next(s for s in one_d if s.name == "fc0").n_in == 8 * 4
    with pytest.raises(InfeasibleDesign, match=r"pool 2 is larger than its 1x1 input") as exc:
        check_shapes(cand, space, (3, 3, 1), 10)
    assert exc.value.path == "model.conv.pool_size"
    with pytest.raises(InfeasibleDesign, match="needs an \\(L, C\\) sequence or \\(H, W, C\\) image"):
        check_shapes(cand, space, 64, 10)


def test_a_kernel_larger_than_the_feature_map_is_refused_before_training() -> None:
    space = cnn_space(model__conv={"blocks": 1, "filters": 4, "kernel_size": 5, "padding": "valid"},
                      hardware__io_type="io_parallel", **FIXED)
    (cand,) = set(sampled(space, 2, seed=0))
    check_shapes(cand, space, (5, 5, 1), 3)
    with pytest.raises(InfeasibleDesign, match="kernel 5 is larger than its 4x4 input") as exc:
        check_shapes(cand, space, (4, 4, 1), 3)
    assert exc.value.path == "model.conv.kernel_size"
    with pytest.raises(InfeasibleDesign):
        prebuild_layers(cand, space, (4, 4, 1), 3)


def test_conv_reuse_factors_use_the_conv_product() -> None:
    space = cnn_space(model__conv={"blocks": 1, "filters": 6, "kernel_size": 3}, hardware__io_type="io_parallel",
                      **{**FIXED, "hardware__strategy": "resource", "hardware__reuse_factor": 5})
    (cand,) = set(sampled(space, 2, seed=0))
    from cost_models.reuse import snap_reuse_factor

    rfs = snapped_reuse_factors(cand, (8, 8, 2), 10)
    assert rfs[0] == snap_reuse_factor(2 * 9, 6, 5)
    spec = next(s for s in prebuild_layers(cand, space, (8, 8, 2), 10) if s.name == "conv0")
    assert spec.reuse_factor == rfs[0] and (spec.n_in, spec.n_out) == (18, 6)


def _validate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``dse validate path`` in this process (the CLI's ``main``, as ``python -m dse.commands.cli`` calls
    it; a fresh interpreter per call cost ~1 s): exit code, stdout, stderr."""
    from dse.commands.cli import main

    capsys.readouterr()
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_refuses_kernels_and_pools_that_leave_nothing(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    d = cnn_space_dict()
    d["model"]["input_shape"] = [8, 8, 1]
    d["model"]["conv"] = {"blocks": [1, 3], "filters": 4, "kernel_size": [3, 5], "padding": "valid",
                          "pooling": ["none", "max"], "pool_size": 2}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    with pytest.raises(ConfigError) as exc:
        from dse.space import load_space

        load_space(path)
    assert exc.value.path == "model.conv.kernel_size" and exc.value.line is not None
    code, out, err = _validate(path, capsys)
    assert code == 2, out + err
    assert "model.conv.kernel_size" in out + err
    d["model"]["conv"] = {"blocks": 2, "filters": 4, "kernel_size": 3, "padding": "same", "pooling": "max",
                          "pool_size": [2, 3]}
    d["model"]["input_shape"] = [6, 6, 1]
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    with pytest.raises(ConfigError) as exc:
        load_space(path)
    assert exc.value.path == "model.conv.pool_size"
    d["model"]["input_shape"] = [18, 18, 1]
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    assert load_space(path).model.input_shape == (18, 18, 1)


def test_per_block_values() -> None:
    space = CNN_SPACES["cnn_per_layer"]
    conv = space.model.conv
    assert conv is not None and conv.for_block("filters", 1).values() == [8, 16]
    assert conv.for_block("filters", 0).values() == [2, 4, 8]
    assert conv.key_of("pool_size", 1) == "per_block[1].pool_size" and conv.key_of("pool_size", 0) == "pool_size"
    pools = {}
    for cand in sampled(space, 60, seed=2):
        f = {la.name: la for la in cand.layers}
        if "conv1" in f:
            assert f["conv1"].filters in (8, 16)  # type: ignore[attr-defined]
        if "pool1" in f:
            pools.setdefault(f["pool1"].op, set()).add(f["pool1"].pool_size)  # type: ignore[attr-defined]
    assert set(pools) == {"average"} and pools["average"] == {2, 3}
    d = cnn_space_dict(model__input_shape=[12, 12, 1])
    d["model"]["conv"] = {"blocks": 2, "filters": 4, "kernel_size": 3, "padding": "same", "pooling": "max",
                          "per_block": [{}, {"kernel_size": 7, "padding": "valid"}]}
    with pytest.raises(ConfigError, match="kernel 7 is larger than the 6x6 feature map of block 1") as exc:
        parse_space_text(yaml.safe_dump(d))
    assert exc.value.path == "model.conv.per_block[1].kernel_size"
    d["model"]["conv"]["per_block"] = [{}, {}, {}]
    with pytest.raises(ConfigError, match="has 3 entries but at most 2 blocks") as exc:
        parse_space_text(yaml.safe_dump(d))
    assert exc.value.path == "model.conv.per_block"


def test_space_refusals() -> None:
    with pytest.raises(ConfigError, match="io_stream is not supported yet for MLPs") as exc:
        parse_space_text(yaml.safe_dump({**quickstart_dict(),
                                         "hardware": {"part": "xcvu9p-flga2104-2L-e", "io_type": "io_stream"}}))
    assert exc.value.path == "hardware.io_type"
    with pytest.raises(ConfigError, match="is required for type: cnn") as exc:
        parse_space_text(yaml.safe_dump(cnn_space_dict(model={"type": "cnn"})))
    assert exc.value.path == "model.conv"
    with pytest.raises(ConfigError, match="not supported by hls4ml's Vitis backend") as exc:
        cnn_space(hardware__conv_implementation=["linebuffer", "encoded"])
    assert exc.value.path == "hardware.conv_implementation"
    with pytest.raises(ConfigError, match="every stride") as exc:
        cnn_space(model__conv={"blocks": 1, "filters": 4, "kernel_size": 2, "stride": 3})
    assert exc.value.path == "model.conv.stride"
    with pytest.raises(ConfigError, match="is for type: cnn only"):
        parse_space_text(yaml.safe_dump({**quickstart_dict(),
                                         "model": {"hidden_layers": 1, "width": 8, "input_shape": [8, 8, 1]}}))
    space = cnn_space()
    assert space.model.hidden_layers.values() == [0, 1]
    resolved = space.to_dict()  # the model and hardware sections as the run folder writes them read back
    again = parse_space_text(yaml.safe_dump({**cnn_space_dict(), "model": resolved["model"],
                                             "hardware": resolved["hardware"]}))
    assert again.to_dict()["model"] == resolved["model"] and again.to_dict()["hardware"] == resolved["hardware"]
    assert again.hardware.io_types.values() == ["io_parallel", "io_stream"]


def test_the_cost_model_estimates_every_buildable_cnn() -> None:
    """Every kind the CNN layers describe has a cost rule: screening can estimate any sampled CNN."""
    from cost_models import Target, estimate

    n = 0
    for space in CNN_SPACES.values():
        hw = space.hardware
        target = Target(part=hw.part, clock_period_ns=hw.clock_period_ns, backend=hw.backend)
        for shape in [(8, 8, 1), (4, 64, 1), (32, 2)]:
            for cand in sampled(space, 12, seed=4):
                try:
                    specs = prebuild_layers(cand, space, shape, 10)
                except InfeasibleDesign:
                    continue
                est = estimate(specs, target)
                assert est.latency_cycles > 0 and est.lut > 0, cand.short()
                n += 1
    assert n > 60


def test_normalized_snaps_reuse_and_parallelization_factors() -> None:
    from dataclasses import replace

    from dse.design.prebuild import normalized

    space = cnn_space(model__conv={"blocks": 1, "filters": 4, "kernel_size": 3, "padding": "valid"},
                      hardware__io_type="io_parallel", **FIXED)
    (cand,) = set(sampled(space, 2, seed=0))
    # (7, 7, 1) -> conv0 5x5 = 25 output pixels: PF 4 and 5 are one design (5), PF 7 is another (5 too)
    with_pf = [replace(cand, layers=tuple(replace(la, parallelization_factor=pf) if isinstance(la, Conv) else la
                                          for la in cand.layers)) for pf in (4, 5, 7, 20)]
    got = [next(la for la in normalized(c, (7, 7, 1), 10).layers if isinstance(la, Conv)).parallelization_factor
           for c in with_pf]
    assert got == [snap_parallelization_factor(25, pf) for pf in (4, 5, 7, 20)] == [5, 5, 5, 25]
    assert normalized(with_pf[0], (7, 7, 1), 10) == normalized(with_pf[1], (7, 7, 1), 10)


def test_validate_checks_a_cnn_against_the_datas_sample_shape(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A space in which no design fits the data's samples exits 2 naming the key and its line; a space in
    which only some designs do not fit validates, with a note naming the key (those are never trained)."""
    import re
    from types import SimpleNamespace

    def validate(d: dict) -> SimpleNamespace:
        path = tmp_path / "space.yaml"
        path.write_text(yaml.safe_dump(d, sort_keys=False))
        code, out, err = _validate(path, capsys)
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    d = cnn_space_dict()
    d["data"]["shape"] = [8, 8, 1]
    d["model"]["conv"] = {"blocks": 2, "filters": 4, "kernel_size": [5, 7], "padding": "valid", "pooling": "max"}
    run = validate(d)  # 8 -> 4 -> pool 2 -> kernel 5 > 2
    assert run.returncode == 2 and "kernel 5 is larger than the 2x2 feature map of block 1" in run.stderr
    assert re.search(r"space\.yaml:\d+: model\.conv\.kernel_size: ", run.stderr)  # file:line, then the key path
    del d["data"]["shape"]  # digits as 64 flat values: not images
    run = validate(d)
    assert run.returncode == 2 and "model.type: a cnn needs [H, W, C] image or [L, C] sequence samples" in run.stderr
    d["data"]["shape"] = [8, 8, 1]
    d["model"]["conv"] = {"blocks": [1, 2], "filters": 4, "kernel_size": 3, "padding": "valid",
                          "pooling": ["none", "max"]}
    run = validate(d)  # the worst case 8 -> 6 -> 3 -> 1 -> pool 2 cannot be built, smaller designs can
    assert run.returncode == 0, run.stderr
    assert "some designs of this space cannot be built and are never trained (model.conv.pool_size)" in run.stdout
    d["model"]["conv"]["padding"] = "same"  # 8 -> 8 -> 4 -> 4 -> 2: every design fits
    run = validate(d)
    assert run.returncode == 0 and "cannot be built" not in run.stdout, run.stderr
