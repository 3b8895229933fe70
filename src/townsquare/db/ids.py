"""Public ids are decimal strings of 64-bit integers; anything else names nothing."""

MAX_ID = 2**63 - 1


def parse_id(raw: str) -> int | None:
    """The integer id written in `raw`, or None if `raw` cannot be one of our ids."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if value <= MAX_ID else None
