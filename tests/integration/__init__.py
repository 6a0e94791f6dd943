"""Real components together (Optuna storage, hls4ml, TensorFlow training, the stand-in HLS tool)."""
