"""r1: the library shared by the pipeline's stages (see DESIGN.md and README.md)."""

__version__ = "0.1.0"
