"""Helpers for how stages are launched on clusters (never part of a stage's hash)."""
