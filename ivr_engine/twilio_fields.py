"""Numbers in Twilio's parameters, read tolerantly: every field Twilio sends is text.

A duration, a sequence number, a step in an action URL or a row id in a callback URL comes
from the outside as text, and text can hold anything: `²` (which `str.isdigit()` accepts and
`int()` refuses), `-1`, forty digits, or a value too large for SQLite's 64-bit integers.
Everything that reads such a field reads it here, so a strange value is one that is not
known (None), never an exception that loses the rest of the request.
"""

from __future__ import annotations

MAX_INTEGER = 2**63 - 1  # SQLite's INTEGER, and so any id or count we store
_MAX_DIGITS = len(str(MAX_INTEGER))


def whole_number(text: str | bytes | None) -> int | None:
    """The non-negative integer `text` spells in ASCII digits (spaces around allowed), if it
    spells one no larger than `MAX_INTEGER`; otherwise None."""
    if not text:
        return None
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    text = text.strip(" \t")
    if not text or len(text) > _MAX_DIGITS or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= MAX_INTEGER else None
