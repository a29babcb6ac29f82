"""`openrs train`: recipes, config resolution, process layout, supervision and the training entry."""
