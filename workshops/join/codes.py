"""Join codes: short, typed on a phone, read off a projector, not guessable in practice.

Eight characters from a 29-symbol alphabet without look-alikes (no 0/O, 1/I/L, U/V) give
29⁸ ≈ 5 × 10¹¹ codes; with a few hundred live codes and guessing rate limited, a guess hits one
about once in a billion. People may type them in any case, with spaces or dashes.
"""

from __future__ import annotations

import secrets

import segno

ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(typed: str) -> str:
    """The code as stored, from what a person typed ("k7qm-2xpa" → "K7QM2XPA")."""
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())


def shown(code: str) -> str:
    """The code as shown on the projector: two groups of four."""
    return f"{code[:4]} {code[4:]}" if len(code) == LENGTH else code


def qr_svg(url: str) -> str:
    """An inline SVG QR code of ``url`` (segno; medium error correction, scales with its box)."""
    qr = segno.make(url, error="m")
    return qr.svg_inline(scale=1, border=2, dark="#000", light="#fff", omitsize=True)
