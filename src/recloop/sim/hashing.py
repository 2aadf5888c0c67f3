"""Stateless integer hashing: assignment buckets anyone can recompute from (unit id, salt).

An experiment platform must put a unit in the same variant on every request, on every server,
without a lookup table. recloop hashes with the SplitMix64 finaliser (Steele, Lea, Flood,
"Fast splittable pseudorandom number generators", OOPSLA 2014; the mixer of Java's
SplittableRandom), vectorised over numpy uint64 arrays:

    key    = FNV-1a 64 of the UTF-8 salt                (one short string, pure Python)
    z      = unit_id * 0x9E3779B97F4A7C15 + key          (mod 2^64: a bijection of unit ids)
    z      = mix64(z)                                    (xor-shift-multiply, also a bijection)
    bucket = (z >> 11) / 2^53                            (uniform in [0, 1), 53 bits)

Distinct unit ids therefore never collide under one salt, and buckets under different salts are
independent, so "in the experiment" and "which variant" can use two salts and ramping the first
never moves a unit between variants. A real platform's own hash (GrowthBook uses FNV-1a 32 of
salt + id) can differ: the tables record the variant, and analysis never recomputes it.
"""

from __future__ import annotations

import numpy as np

GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1
_TO_UNIT = 2.0**-53


def fnv1a64(text: str) -> int:
    """FNV-1a 64-bit hash of a string's UTF-8 bytes (stable across processes, unlike hash())."""
    h = _FNV_OFFSET
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * _FNV_PRIME) & _MASK64
    return h


def mix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser of every element (a bijection of uint64), as a new array."""
    z = np.array(x, dtype=np.uint64, copy=True, ndmin=1)  # arrays wrap silently; scalars warn
    z ^= z >> np.uint64(30)
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


def unit_hash(unit_ids: np.ndarray, salt: str) -> np.ndarray:
    """uint64 hash of each unit id under a salt."""
    z = np.array(unit_ids, dtype=np.int64, ndmin=1).astype(np.uint64)
    z *= np.uint64(GOLDEN_GAMMA)
    z += np.uint64(fnv1a64(salt))
    return mix64(z)


def bucket(unit_ids: np.ndarray, salt: str) -> np.ndarray:
    """A uniform number in [0, 1) per unit, fixed by (unit id, salt)."""
    return (unit_hash(unit_ids, salt) >> np.uint64(11)).astype(np.float64) * _TO_UNIT
