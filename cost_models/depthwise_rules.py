"""Cost rules of hls4ml's depthwise convolutions, ``depthwise_conv1d`` / ``depthwise_conv2d`` (hls4ml 1.3).

What hls4ml 1.3 generates (``templates/vivado/nnet_utils``; the Vitis backend uses the same files):

* ``SeparableConv1D/2D`` never reaches the templates whole: the ``convert`` flow's ``separable_to_depthwise_and_conv``
  pass (``model/optimizer/passes/seperable_to_dw_conv.py``) splits it into ``<name>_depthwise`` (a
  ``DepthwiseConv1D/2D``, no bias) and ``<name>_pointwise`` (a ``Conv1D/2D`` with a 1x1 kernel, made a
  ``PointwiseConv`` by the Vivado backend). So a separable conv is costed as a depthwise conv followed by a pointwise
  conv (:func:`cost_models.analytic._rule_conv`); ``nnet_sepconv*`` ``separable_conv_*`` are not called.
* The config (``backends/vivado/passes/convolution_templates.py``, ``Conv1DConfigTemplate`` /
  ``Conv2DConfigTemplate``, which match ``DepthwiseConv1D/2D`` too) is a ``conv1d_config`` / ``conv2d_config``
  struct whose ``configN_mult`` has ``n_in = filt_w*filt_h*n_chan``, ``n_out = n_filt`` and a ``DepthwiseDense*``
  kernel (``DepthwiseDenseLatency``; Resource: ``DepthwiseDenseResource_rf_leq_nout`` / ``_rf_gt_nout_rem0`` /
  ``_rf_gt_nout``). ``n_zeros`` counts the zeros of the ``filt_w*filt_h*n_chan`` depthwise weights.
* The product (``nnet_depthwise_product.h`` lines 7-54, ``depthwise_product_latency``): ``mult[ii] =
  data[ii] * weights[ii]`` for the ``n_in`` window values (one weight each, ``function_instantiate``: constants),
  then ``acc[jj] += mult[ii * n_out + jj]``: each channel sums its ``filt_w*filt_h`` products and the bias. That is
  ``n_chan`` independent dense products of ``kernel x 1``: the dense machinery
  (:func:`cost_models.analytic._mult_pass`) with ``n_in = kernel``, ``n_out = n_chan`` counts exactly these
  multiplications, an adder tree of ``ceil(log2 kernel) + 1`` levels per channel and ``n_chan`` accumulators.
  The Resource kernels (lines 57-253) reshape the ``n_in`` weights by ``block_factor = ceil(n_in / RF)``: that many
  generic multipliers in a reuse loop of RF iterations at ``PIPELINE II=1`` -- the dense Resource rule on the same
  ``n_in * 1`` products.
* io_parallel (``nnet_sepconv2d.h`` lines 12-24, ``nnet_sepconv2d_latency.h`` lines 61-137; the 1D files the
  same): ``PartitionLoop`` over ``n_partitions = out_pixels / ParallelizationFactor`` passes, ``PIPELINE
  II=reuse_factor``, each pass unrolling ``n_pixels = PF`` output pixels of ``kernel x n_chan`` products: the conv
  rule's partition logic (:func:`cost_models.analytic._rule_conv`). Only the Latency (and distributed arithmetic)
  strategy is written: a Resource-strategy depthwise conv hits ``assert("Resource strategy for DepthwiseConv2D is
  not supported." && false)``, so the rule refuses it (:class:`~cost_models.errors.UnknownLayerError`).
* io_stream (``nnet_sepconv2d_stream.h`` lines 12-97, ``nnet_sepconv_stream.h`` lines 11-80 and 116-237): the
  line-buffer (``ap_shift_reg<T, in_width> line_buffer[filt_height - 1][n_chan]``, ``shift_line_buffer``) or encoded
  (``filt_h*filt_w*n_chan`` FIFOs of depth ``filt_height * out_width``) window of ``nnet_conv_stream.h``, the loop
  over the INPUT pixels ``PIPELINE II=reuse_factor`` under Latency (none under Resource), the depthwise product on a
  full window: the conv rule's stream branch, plus the window registers of all ``n_in`` values
  (``kernel_data[filt_h*filt_w*n_chan]``, ``ARRAY_PARTITION complete``).
* Both io types assert ``n_filt == n_chan`` ("only a depth multiplier of 1 is currently supported"): a depth
  multiplier above 1 is refused too.

Departure from the template: ``multiplier_limit`` of the mult struct is ``DIV_ROUNDUP(n_in * n_out, RF)``, i.e.
``n_chan`` times the depthwise products per RF (the dense formula on a matrix the kernel does not multiply); it
never binds. The rule takes the dense rule's limit on the real products, ``ceil(kernel * n_chan / RF)``: the
sharing the ``PIPELINE II=RF`` schedule allows. Units as in :mod:`cost_models.analytic`. No shared synthesis
report has a depthwise conv: every estimate carries the "no synthesis data" note.
"""

from __future__ import annotations

import dataclasses

from cost_models.analytic import RULES, LayerContext, LayerEstimate, LayerRule, _rule_conv, register_rule
from cost_models.errors import UnknownLayerError
from cost_models.layer_rules import _no_data
from cost_models.layers import DEPTHWISE_KINDS, LayerSpec

__all__ = ["DEPTHWISE_RULES", "depthwise_unsupported"]


def depthwise_unsupported(layer: LayerSpec, label: str | None = None) -> str | None:
    """Why hls4ml 1.3 writes no working ``layer`` (a depthwise conv), or ``None``: the io_parallel templates have
    no Resource strategy (``nnet_sepconv{1,2}d.h``: ``assert("Resource strategy for DepthwiseConv2D is not
    supported." && false)``), both io types support a depth multiplier of 1 only (``assert(n_filt ==
    n_chan)``), and hls4ml's distributed arithmetic leaves depthwise convs out. ``label``: how the message names
    the layer (default ``'<name>'``)."""
    who = label or repr(layer.name)
    g = layer.conv
    dim = "1D" if layer.kind.endswith("1d") else "2D"
    if g is not None and g.n_filt != g.n_chan:
        return (f"layer {who}: hls4ml 1.3's DepthwiseConv{dim} supports a depth multiplier of 1 only "
                f"(n_filt {g.n_filt} != n_chan {g.n_chan}; nnet_sepconv{dim.lower()}*.h assert n_filt == n_chan)")
    if layer.strategy == "distributed_arithmetic":
        return (f"layer {who}: hls4ml 1.3's distributed arithmetic does not cover DepthwiseConv{dim} "
                f"(backends/vivado/passes/distributed_arithmetic.py: 'depthwise conv families are not supported')")
    if layer.strategy == "resource" and layer.io_type == "io_parallel":
        return (f"layer {who}: hls4ml 1.3 has no io_parallel Resource-strategy DepthwiseConv{dim} "
                f"(nnet_sepconv{dim.lower()}.h asserts 'Resource strategy for DepthwiseConv{dim} is not supported'); "
                f"use the Latency strategy or io_stream")
    return None


def _rule_depthwise(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """DepthwiseConv1D/2D (see the module docstring): the conv rule on the ``kernel x 1`` products of each of the
    ``n_chan`` channels, and under io_stream the registers of the whole ``kernel x n_chan`` window. Returns the
    output pixels under io_stream (1 under io_parallel). Raises :class:`~cost_models.errors.UnknownLayerError` for
    what hls4ml 1.3 does not implement (:func:`depthwise_unsupported`)."""
    why = depthwise_unsupported(layer)
    if why is not None:
        raise UnknownLayerError(why)
    _no_data(est, layer.kind)
    g = layer.conv
    n_chan = g.n_chan if g is not None else max(1, layer.n_out)
    kernel = max(1, layer.n_in // max(1, n_chan))
    # n_chan dense products of kernel x 1: n_in = kernel, n_out = n_chan gives _mult_pass (and the trained weight
    # summary, kernel * n_chan values) the depthwise product's multiplications, tree and accumulators
    per_channel = dataclasses.replace(layer, n_in=kernel, n_out=n_chan)
    out = _rule_conv(per_channel, ctx, est)
    if layer.io_type == "io_stream":  # _rule_conv registered a kernel-value window; it holds kernel x n_chan values
        est.ff += (layer.n_in - kernel) * ctx.data.width
    est.notes.append(f"depthwise: {kernel} products per channel x {n_chan} channels per pixel")
    return out


DEPTHWISE_RULES: dict[str, LayerRule] = {kind: _rule_depthwise for kind in DEPTHWISE_KINDS}
"""The rules this module adds to :data:`cost_models.analytic.RULES`."""

for _kind, _rule in DEPTHWISE_RULES.items():
    if RULES.get(_kind) is not _rule:
        register_rule(_kind, _rule)
