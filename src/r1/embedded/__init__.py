"""The embedded default: a tiny model, its tokenizer and small problem sets, all built from a
seed by this package (no download), so the whole pipeline runs offline on a CPU in minutes."""
