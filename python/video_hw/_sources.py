"""Sources given as file objects: their bytes, read as torchcodec reads them."""

from __future__ import annotations

from typing import Any

# How much each ``read`` asks for.
_PIECE = 1 << 22


def file_bytes(f: Any) -> bytes:
    """The bytes of a file object from where it stands to its end, read in pieces with
    ``read(size)``: file-like objects whose ``read`` takes no default size work too."""
    pieces = []
    while True:
        piece = f.read(_PIECE)
        if not piece:
            return b"".join(pieces)
        if isinstance(piece, str):
            raise TypeError("source: a file object opened for text; open it with 'rb' for binary reading")
        pieces.append(bytes(piece))


def is_file_object(source: Any) -> bool:
    """Something with ``read`` that is not a path or bytes."""
    return not isinstance(source, (str, bytes)) and hasattr(source, "read")
