"""report.html: report.md rendered to one self-contained HTML file, its plots embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Any

from markdown_it import MarkdownIt

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code { background: #f6f6f6; padding: 0 0.2em; word-break: break-all; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
"""


def _image_rule(self: Any, tokens: Any, idx: int, options: Any, env: Mapping[str, Any]) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    png = env["images"].get(src)
    alt = html.escape(self.renderInlineAsText(token.children or [], options, env))
    if png is None:
        return f'<img src="{html.escape(src)}" alt="{alt}" />'
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{alt}" title="{alt}" />'


def render(markdown: str, title: str, images: Mapping[str, bytes]) -> str:
    """HTML of `markdown`; an image whose path is in `images` is inlined (raw HTML in the input is escaped)."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("image", _image_rule)
    body = md.render(markdown, {"images": images})
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8" />\n<title>{html.escape(title)}</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n")
