"""A design: an ordered list of layers of registered kinds (``layer_kind``, ``layer_kinds``), laid out
by an architecture (``architectures``), with the global settings (``candidate``), and the one way it
meets hls4ml (``hls4ml_adapter``: conversion, backend names, model loading, layers for the cost model)."""
