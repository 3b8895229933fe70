"""Plain text as Mastodon's HTML: escaped, paragraphs and line breaks kept, nothing else."""

from __future__ import annotations

import pytest

from townsquare.mastodon.html import from_plain


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("", ""),
        ("   ", ""),
        ("plain", "<p>plain</p>"),
        ("a <b> & 'c' \"d\"", "<p>a &lt;b&gt; &amp; &#x27;c&#x27; &quot;d&quot;</p>"),
        ("one\ntwo", "<p>one<br />two</p>"),
        ("one\r\ntwo\r\n\r\nthree", "<p>one<br />two</p><p>three</p>"),
        ("\n\nfirst\n \n\n<i>second</i>\n", "<p>first</p><p>&lt;i&gt;second&lt;/i&gt;</p>"),
    ],
)
def test_plain_text_becomes_escaped_paragraphs(text: str, html: str) -> None:
    assert from_plain(text) == html
