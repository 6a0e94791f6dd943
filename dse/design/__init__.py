"""A design: one point of the space (``candidate``) and the one way it meets hls4ml
(``hls4ml_adapter``: conversion, backend names, model loading, layers for the cost model)."""
