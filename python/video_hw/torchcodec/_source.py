"""The sources torchcodec's decoders take, refused as torchcodec refuses the others."""

from __future__ import annotations

import io
import os
from typing import Any

import torch


def checked(source: Any) -> Any:
    """``source`` as it is, or torchcodec's ``TypeError``: a file object opened for text,
    or a type it does not take."""
    if isinstance(source, io.TextIOBase):
        raise TypeError("source is for reading text, likely from open(..., 'r'). Try with 'rb' for binary reading?")
    if isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview, torch.Tensor)) or hasattr(source, "read"):
        return source
    raise TypeError(
        f"Unknown source type: {type(source)}. Supported types are str, Path, bytes, Tensor and file-like "
        "objects with read(self, size: int) -> bytes and seek(self, offset: int, whence: int) -> int methods."
    )
