"""torch's ``linspace`` (integer output) and ``arange`` (float64) reproduced without torch.

torchcodec's regular samplers take their clip starts from ``torch.linspace(a, b, steps,
dtype=torch.int)`` and ``torch.arange(start, end, step, dtype=torch.float64)``. Our samplers
must pick the same frames, so these give the same numbers to the last bit, whether or not
torch is installed. The formulas are torch's CPU kernels as measured against torch itself
(python/tests/test_samplers.py compares them over many parameters where torch is present).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import List


def linspace_int(start: int, end: int, steps: int) -> List[int]:
    """``torch.linspace(start, end, steps=steps, dtype=torch.int).tolist()``.

    torch computes integer outputs in double: a step ``(end - start) / (steps - 1)``, the
    first half of the values counted up from ``start`` and the second half counted down
    from ``end`` (so both ends are exact), each truncated toward zero."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if steps == 0:
        return []
    start, end = int(start), int(end)
    if steps == 1:
        return [start]
    step = (float(end) - float(start)) / (steps - 1)
    halfway = steps // 2
    out = []
    for i in range(steps):
        v = start + step * i if i < halfway else end - step * (steps - i - 1)
        out.append(int(v))  # truncation toward zero, as a C++ cast
    return out


def _fma(x: float, y: float, z: float) -> float:
    """``x * y + z`` rounded once, as the FMA instruction torch's kernels are compiled to."""
    f = getattr(math, "fma", None)  # Python 3.13
    if f is not None:
        return f(x, y, z)
    return float(Fraction(x) * Fraction(y) + Fraction(z))


# Doubles in the vectors of torch's CPU arange kernel. Measured against torch 2.x on x86-64
# (AVX2 and AVX-512 machines alike): the values follow 4-wide blocks.
_VECTOR = 4


def arange_f64(start: float, end: float, step: float) -> List[float]:
    """``torch.arange(start, end, step, dtype=torch.float64).tolist()`` on an x86-64 CPU.

    The length is ``ceil((end - start) / step)``. torch's kernel fills the tensor two
    vectors of 4 at a time, each vector as ``base + k * step`` with
    ``base = start + step * i`` for its first index ``i``, and the tail that fills no two
    vectors element by element as ``start + step * i``; every one of those is one fused
    multiply-add (a single rounding). The blocked and element-wise forms can differ in the
    last bit, and a clip start one bit off may land on another frame, so both are followed.
    (Past 32768 values torch splits the work between threads; clip starts never are that
    many.)"""
    start, end, step = float(start), float(end), float(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    size = max(int(math.ceil((end - start) / step)), 0)
    blocked = size - size % (2 * _VECTOR)
    out = []
    for i in range(0, blocked, _VECTOR):
        base = _fma(step, float(i), start)
        out.extend(_fma(float(k), step, base) for k in range(_VECTOR))
    out.extend(_fma(step, float(i), start) for i in range(blocked, size))
    return out
