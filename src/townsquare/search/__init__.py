"""Search over users (username exact, prefix and typo; bio words) and posts (full text)."""
