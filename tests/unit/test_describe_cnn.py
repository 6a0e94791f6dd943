"""``dse validate``'s description of a CNN space (the MLP text is unchanged: test_space_schema and the CLI tests)."""

from __future__ import annotations

from dse.space import load_space
from dse.space.describe import describe_space
from tests.helpers import ROOT
from tests.unit.test_cnn_design import cnn_space


def line(text: str, key: str) -> str:
    return next(x for x in text.splitlines() if x.strip().startswith(key))


def test_a_cnn_space_is_described_by_its_conv_blocks_dense_head_and_searched_io_type() -> None:
    text = describe_space(cnn_space())
    model = line(text, "model")
    assert model.split(None, 1)[1].startswith("CNN, conv blocks {1, 2}, filters {2, 4, 8}, kernel size {1, 2, 3}")
    assert "head {flatten, global_max, global_average}" in model
    assert model.endswith("dense head: hidden layers {0, 1}, widths {8, 16}, output softmax")
    hardware = line(text, "hardware")
    assert "{io_parallel, io_stream}" in hardware and "ParallelizationFactor {1, 2, 3, 4}" in hardware
    fixed = describe_space(cnn_space(model__input_shape=[8, 8, 1], model__conv={"blocks": 1, "filters": 4},
                                     hardware__io_type="io_stream",
                                     hardware__parallelization_factor=1))
    assert "CNN, input 8x8x1, conv blocks" in line(fixed, "model")
    assert ", io_stream, " in line(fixed, "hardware") and "ParallelizationFactor" not in line(fixed, "hardware")


def test_the_mlp_model_line_is_as_it_was() -> None:
    text = describe_space(load_space(ROOT / "search_spaces" / "quickstart.yaml"))
    assert line(text, "model") == "  model         MLP, hidden layers {1, 2}, widths {8, 16, 32}, output softmax"
    assert line(text, "hardware") == ("  hardware      vitis xcvu9p-flga2104-2L-e @ 5 ns, io_parallel, ReuseFactor "
                                      "{1, 2, 4}, strategy latency")


def test_per_block_settings_are_listed_after_the_shared_ones() -> None:
    space = cnn_space(model__conv={"blocks": 2, "filters": [4, 8],
                                   "per_block": [{"filters": [2]}, {"kernel_size": [1, 3], "pooling": "max"}]})
    model = line(describe_space(space), "model")
    assert "filters {4, 8}, kernel size 3" in model
    assert "block 0: filters 2, block 1: kernel size {1, 3}, pooling max, dense head" in model
