"""Our plain text as the HTML Mastodon's entities carry (`content`, `note`): everything escaped,
blank lines as paragraphs, single line breaks as `<br />`. No markup of the author's survives."""

from __future__ import annotations

import html
import re

_PARAGRAPHS = re.compile(r"\n\s*\n")


def from_plain(text: str) -> str:
    if not text:
        return ""
    if "\n" not in text and "\r" not in text:  # most posts: one paragraph
        return f"<p>{html.escape(text, quote=True)}</p>" if text.strip() else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (p for p in _PARAGRAPHS.split(text.strip("\n")) if p.strip())
    return "".join(f"<p>{html.escape(p, quote=True).replace(chr(10), '<br />')}</p>" for p in paragraphs)
