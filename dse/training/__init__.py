"""Training one candidate: the data set (``data``, checked by ``data_checks``), the QKeras model
(``model_builder``), QAT + pruning (``train``), one trial end to end (``trial_runner``) and
hls4ml testbench data (``testbench``). TensorFlow is imported only inside the functions that
need it, so importing this package is cheap."""
