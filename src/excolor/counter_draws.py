"""Counter-based random draws: uniforms that are a pure function of (key, counter), for every member
of a population at once, on any device.

    u(key, c) = (h >> 8) · 2⁻²⁴,   h = fmix32(key ⊕ fmix32(c ⊕ 0x9E3779B9))

fmix32 is MurmurHash3's 32-bit finaliser (x ⊕= x ≫ 16; x ·= 0x85EBCA6B; x ⊕= x ≫ 13; x ·= 0xC2B2AE35;
x ⊕= x ≫ 16, all mod 2³²), a bijection of 32-bit words. It is computed in int64 with every product
kept below 2⁶³ (the constant split into 16-bit halves), so the bits are the same on every device and
every build. A member's key comes from its seed alone (`member_key`): its draws depend neither on the
population's size nor on its place in it, and one tensor op draws for all members (a generator per
member costs a kernel launch or a host call per member per draw).
"""

from __future__ import annotations

import torch
from torch import Tensor

MASK32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9  # ⌊2³² / φ⌋: keeps counter 0 from hashing to 0
FMIX_MULTIPLIERS = (0x85EBCA6B, 0xC2B2AE35)


def fmix32_int(x: int) -> int:
    """fmix32 of one Python int (mod 2³²): the reference the tensor version is tested against."""
    x &= MASK32
    x ^= x >> 16
    x = (x * FMIX_MULTIPLIERS[0]) & MASK32
    x ^= x >> 13
    x = (x * FMIX_MULTIPLIERS[1]) & MASK32
    return x ^ (x >> 16)


def _mul32(x: Tensor, constant: int) -> Tensor:
    """(x · constant) mod 2³² for int64 x in [0, 2³²): the product is split so that no partial product
    reaches 2⁶³ (x · 2¹⁶ < 2⁴⁸)."""
    low, high = constant & 0xFFFF, constant >> 16
    return (x * low + (((x * high) & 0xFFFF) << 16)) & MASK32


def fmix32(x: Tensor) -> Tensor:
    """MurmurHash3's finaliser on int64 tensors holding 32-bit words (see the module docstring)."""
    x = x & MASK32
    x = x ^ (x >> 16)
    x = _mul32(x, FMIX_MULTIPLIERS[0])
    x = x ^ (x >> 13)
    x = _mul32(x, FMIX_MULTIPLIERS[1])
    return x ^ (x >> 16)


def member_key(seed: int, stream: int = 0) -> int:
    """A member's 32-bit key from its (up to 64-bit) seed and a stream number (one per use):
    fmix32(fmix32(fmix32(stream) ⊕ seed_low) ⊕ seed_high)."""
    seed &= (1 << 64) - 1
    return fmix32_int(fmix32_int(fmix32_int(stream) ^ (seed & MASK32)) ^ (seed >> 32))


def uniforms(keys: Tensor, counters: Tensor) -> Tensor:
    """float32 uniforms in [0, 1), 24 bits each: keys [N] (int64) × counters [...] (int64, < 2³²)
    → [N, ...]; entry (n, c) is u(keys[n], counters[c]) of the module docstring."""
    mixed = fmix32((counters & MASK32) ^ GOLDEN)
    shape = (-1,) + (1,) * counters.dim()
    h = fmix32(keys.reshape(shape) ^ mixed)
    return (h >> 8).to(torch.float32) * 2.0**-24
