"""Markdown for the conveners' narrative sections: raw HTML is escaped and unsafe links are dropped."""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True}).enable("table")


def render_markdown(text: str) -> str:
    return _parser().render(text or "")
