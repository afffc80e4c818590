"""What the gpu tests share: a clean skip on a machine without CUDA.

Every test in tests/gpu is marked `gpu` and skipped without CUDA. Run them on a GPU node with
`pytest tests/gpu -m gpu`. They need the ML environment (torch, transformers, trl, datasets,
math-verify) but no network and no DVC.
"""

from __future__ import annotations

import pytest


def cuda_or_skip():
    """torch, when it is installed and sees a CUDA device; otherwise skip the calling module."""
    torch = pytest.importorskip("torch", reason="the gpu tests need torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device (torch.cuda.is_available() is False); run on a GPU node",
                    allow_module_level=True)
    return torch
