"""Training data from any source: the pipeline's distilled rows, local files or Hub datasets,
mixed by weight and mapped onto each training stage's schema (see spec and build)."""
