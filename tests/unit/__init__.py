"""Fast tests: no TensorFlow, Ray or Jupyter; the whole tier runs in under 10 s."""
