"""Files: rnnkit checkpoints (config, weights, kept states) and Keras model files."""
