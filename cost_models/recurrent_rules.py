"""Cost rules of hls4ml's recurrent layers, LSTM and GRU (hls4ml 1.3 ``nnet_recurrent.h``, ``recurrent_templates.py``).

What hls4ml generates: ``nnet::lstm_stack`` / ``nnet::gru_stack`` loop over the ``n_sequence`` time steps (no
``PIPELINE`` of their own; the io_stream loop's is commented out) and call one cell per step, ``lstm_static`` /
``gru_static`` (``use_static``: the state lives in ``static`` registers of ONE cell that every step reuses) or
``lstm`` / ``gru`` (the state passed in: under the io_parallel top-level ``PIPELINE`` the loop is unrolled into one
cell per step). A cell is

* the input product ``nnet::dense<mult_config1>`` (``n_in`` features x ``gates * n_state``, the layer's
  ReuseFactor) and the recurrent product ``nnet::dense<mult_config2>`` (``n_state x gates * n_state``, the
  recurrent ReuseFactor), side by side: the dense rule of :mod:`cost_models.analytic`;
* the sums of the two, the gates' activation (``activation_recr``, a table-based sigmoid, on ``3 n_state``
  elements for an LSTM, ``2 n_state`` for a GRU) and the state's (``activation``, tanh, on ``n_state``; twice in an
  LSTM: the candidate and the new state): the activation rule;
* ``3 n_state`` element-wise products of variables (LSTM ``s = c*i + s*f``, ``h = o*tanh(s)``; GRU ``r*h``,
  ``h_cand*(1-z) + h*z``) at the accumulator width, bound as the merge rule's Multiply.

The trained kernels' values are not summarized (a recurrent layer has no ``weights`` summary): the products follow
the dense rule's typical weights at the declared type. The steps are serial (each reads the state the previous one
wrote): latency = ``n_sequence`` x the cell's. A static
cell takes the whole sequence before the next input (II = latency); unrolled cells form a pipeline of II = the
larger ReuseFactor. Units as in :mod:`cost_models.analytic`. No shared synthesis report has a recurrent layer: every
estimate carries the "no synthesis data" note.
"""

from __future__ import annotations

import dataclasses

from cost_models.analytic import (
    LUT_PER_GENERIC_MULT_BITPROD,
    RULES,
    LayerContext,
    LayerEstimate,
    LayerRule,
    dsp_per_mult,
    estimate_layer,
    register_rule,
)
from cost_models.layer_rules import ADD_LUT_PER_BIT, _lut_product, _no_data, _op_cycles
from cost_models.layers import FixedType, LayerSpec

__all__ = ["GATES", "RECURRENT_RULES"]

GATES = {"lstm": 4, "gru": 3}
"""Gate blocks of the products (``n_state * 4`` / ``* 3`` columns of the kernels in ``nnet_recurrent.h``)."""
STATE_ACTIVATIONS = {"lstm": 2, "gru": 1}
"""Calls of the state activation (tanh) per cell."""
ELEMENTWISE_PRODUCTS = 3
"""Products of two variables per state element and cell (LSTM: ``c*i``, ``s*f``, ``o*tanh(s)``; GRU: ``r*h``,
``h_cand*(1-z)``, ``h*z``)."""
STATE_VECTORS = {"lstm": 2, "gru": 1}
"""State vectors a cell keeps (LSTM ``h`` and ``s``, GRU ``h``), registered at the result width."""


def _cell(layer: LayerSpec, ctx: LayerContext, features: int, n: int, gates: int) -> tuple[LayerEstimate, float]:
    """One cell's resources (in a :class:`LayerEstimate`) and its II; its ``latency_cycles`` is one step's."""
    accum = layer.accum or FixedType(max(16, layer.result.width * 2), max(6, layer.result.integer * 2))
    rf = max(1, layer.reuse_factor)
    rf_rec = max(1, layer.recurrent_reuse_factor or rf)
    common = {"result": accum, "accum": accum, "bias": layer.bias, "strategy": layer.strategy,
              "mult_impl": layer.mult_impl, "io_type": "io_parallel"}
    dense_x = LayerSpec(f"{layer.name}_x", "dense", features, gates * n, weight=layer.weight,
                        n_zeros=layer.n_zeros, reuse_factor=rf, **common)  # type: ignore[arg-type]
    dense_h = LayerSpec(f"{layer.name}_h", "dense", n, gates * n, weight=layer.recurrent_weight or layer.weight,
                        n_zeros=layer.recurrent_n_zeros, reuse_factor=rf_rec, **common)  # type: ignore[arg-type]
    act = {"result": accum, "table": layer.table, "table_size": layer.table_size, "io_type": "io_parallel"}
    gate_act = LayerSpec(f"{layer.name}_recr", "activation", (gates - 1) * n, (gates - 1) * n,
                         activation=layer.recurrent_activation or "sigmoid", **act)  # type: ignore[arg-type]
    state_act = LayerSpec(f"{layer.name}_act", "activation", n, n, activation=layer.activation or "tanh", **act)  # type: ignore[arg-type]
    x, _ = estimate_layer(dense_x, ctx)
    ctx_h = dataclasses.replace(ctx, data=layer.result, stream_pixels=1)
    h, _ = estimate_layer(dense_h, ctx_h)
    ctx_acc = dataclasses.replace(ctx, data=accum, stream_pixels=1)
    g, _ = estimate_layer(gate_act, ctx_acc)
    s, _ = estimate_layer(state_act, ctx_acc)
    n_states = STATE_ACTIVATIONS[layer.kind]
    cell = LayerEstimate(layer.name, layer.kind)
    for part, times in ((x, 1), (h, 1), (g, 1), (s, n_states)):
        cell.dsp += times * part.dsp
        cell.lut += times * part.lut
        cell.ff += times * part.ff
        cell.bram_18k += times * part.bram_18k
        cell.multipliers += times * part.multipliers
    products = ELEMENTWISE_PRODUCTS * n
    if _lut_product(accum, accum, layer):
        cell.lut += products * accum.width * accum.width * LUT_PER_GENERIC_MULT_BITPROD
        t_mult = ctx.k.t_mult_lut_ns
    else:
        cell.dsp += products * dsp_per_mult(accum.width, accum.width, ctx.part)
        t_mult = ctx.k.t_mult_dsp_ns
    cell.multipliers += products
    # the sums of the two products (gates x n) and of the state update (n), at the accumulator width
    cell.lut += (gates + 1) * n * accum.width * ADD_LUT_PER_BIT
    cell.ff += STATE_VECTORS[layer.kind] * n * layer.result.width
    mult = _op_cycles(t_mult, ctx, at_least=1)
    add = _op_cycles(ctx.k.t_add_ns, ctx)
    # products -> sum -> gate activation -> product (+ sum) -> state activation -> product
    cell.latency_cycles = max(x.latency_cycles, h.latency_cycles) + add + g.latency_cycles + mult + add \
        + s.latency_cycles + mult
    return cell, max(x.ii, h.ii)


def _rule_recurrent(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """LSTM and GRU (see the module docstring). ``n_in`` is ``time_steps x features``, ``n_out`` the output
    elements; returns the output pixels under io_stream (``time_steps`` when it returns sequences, else 1)."""
    _no_data(est, layer.kind)
    if layer.extra.get("note"):
        est.notes.append(layer.extra["note"])
    steps = max(1, layer.time_steps or 1)
    n = max(1, layer.n_state or layer.n_out)
    features = max(1, layer.n_in // steps)
    cell, cell_ii = _cell(layer, ctx, features, n, GATES[layer.kind])
    unrolled = not layer.recurrent_static and layer.io_type != "io_stream"
    copies = steps if unrolled else 1
    est.dsp = copies * cell.dsp
    est.lut = copies * cell.lut
    est.ff = copies * cell.ff
    est.bram_18k = copies * cell.bram_18k
    est.multipliers = copies * cell.multipliers
    est.reuse_factor = max(1, layer.reuse_factor)
    est.latency_cycles = steps * cell.latency_cycles
    est.ii = cell_ii if unrolled else est.latency_cycles
    est.depth_cycles = est.latency_cycles
    est.notes.append(f"{steps} time steps of {cell.latency_cycles:g} cycles on "
                     f"{'a cell per step' if unrolled else 'one cell'}")
    sequences = layer.n_out == steps * n and steps > 1
    return steps if sequences and layer.io_type == "io_stream" else 1


RECURRENT_RULES: dict[str, LayerRule] = {"lstm": _rule_recurrent, "gru": _rule_recurrent}
"""The rules this module adds to :data:`cost_models.analytic.RULES`."""

for _kind, _rule in RECURRENT_RULES.items():
    if RULES.get(_kind) is not _rule:
        register_rule(_kind, _rule)
