"""Words for counts in messages: ``1 practice``, ``2 practices``."""

from __future__ import annotations


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``n`` with its noun, singular for one: ``plural(1, "practice")`` is ``1 practice``,
    ``plural(1234, "hub")`` is ``1,234 hubs``; ``nouns`` is the plural when it is not
    ``noun`` + ``s``."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"
