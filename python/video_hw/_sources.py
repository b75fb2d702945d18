"""Sources other than paths: file objects, buffers and tensors of encoded bytes, read
into bytes as torchcodec reads them."""

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


def is_torch_tensor(obj: Any) -> bool:
    """A ``torch.Tensor``, told without importing torch."""
    return type(obj).__module__.startswith("torch") and hasattr(obj, "numpy") and hasattr(obj, "dtype")


def tensor_bytes(tensor: Any) -> bytes:
    """The encoded bytes a ``torch.Tensor`` holds (uint8, 1-D, as torchcodec takes them)."""
    if str(tensor.dtype) != "torch.uint8" or tensor.dim() != 1:
        raise ValueError(
            f"source: a tensor of encoded bytes must be 1-D uint8, got {tensor.dtype} of shape {tuple(tensor.shape)}"
        )
    return tensor.detach().cpu().contiguous().numpy().tobytes()


def readable(source: Any) -> Any:
    """``source`` as the native decoder takes it: a path as it is, anything else as its
    bytes (a file object read from where it stands, so it can be opened again)."""
    if isinstance(source, (bytearray, memoryview)):
        return bytes(source)
    if is_torch_tensor(source):
        return tensor_bytes(source)
    if is_file_object(source):
        return file_bytes(source)
    return source
