"""Public ids are decimal strings of 64-bit integers; anything else names nothing."""

MAX_ID = 2**63 - 1
# A path segment that names one (19 digits at most), or `me`: longer is refused (422).
REF_MAX_LENGTH = 20


def parse_id(raw: str) -> int | None:
    """The integer id written in `raw`, or None if `raw` cannot be one of our ids."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


# next_id() (migration 0001): milliseconds since 2026-01-01 UTC, shifted left 16 bits, | a sequence.
ID_EPOCH_MS = 1_767_225_600_000


def first_id_at(epoch_seconds: float) -> int:
    """The smallest id next_id() can make at that moment (a bound, not an id)."""
    return max(0, int(epoch_seconds * 1000) - ID_EPOCH_MS) << 16
