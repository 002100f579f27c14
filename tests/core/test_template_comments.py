"""Django's ``{# … #}`` comment ends on its own line: one spread over two lines is not a comment
and is printed on the page as text (a convener once saw one above the capture review's buttons).
Longer notes take ``{% comment %}``."""

from pathlib import Path

from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parents[2]


def unclosed_comments(source: str) -> list[int]:
    """Line numbers where a ``{#`` reaches the page as text."""
    return [
        token.lineno + token.contents[: token.contents.index("{#")].count("\n")
        for token in Lexer(source).tokenize()
        if token.token_type == TokenType.TEXT and "{#" in token.contents
    ]


def test_a_comment_over_two_lines_is_found():
    assert unclosed_comments("<p>\n{# one line #}\n{# two\nlines #}\n</p>") == [3]


def test_no_template_prints_a_comment():
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if (lines := unclosed_comments(path.read_text(encoding="utf-8")))
    }
    assert found == {}, f"multi-line {{# #}} comments (use {{% comment %}}): {found}"
