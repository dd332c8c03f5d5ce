"""report.html parses, embeds every plot it references, and escapes raw HTML from the data."""

import base64
from html.parser import HTMLParser

from drift_audit.core.deliverables import html


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))


def test_images_are_embedded_and_html_is_escaped():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    md = "# T\n\n| a | b |\n|---|---|\n| <script>x</script> | 1 |\n\n![g.f](plots/f.png)\n\n![missing](plots/none.png)\n"
    out = html.render(md, "Title <1>", {"plots/f.png": png})
    parser = _Collect()
    parser.feed(out)
    parser.close()
    assert out.startswith("<!DOCTYPE html>") and {"html", "head", "body", "table", "h1"} <= set(parser.tags)
    assert "script" not in parser.tags and "&lt;script&gt;" in out and "<title>Title &lt;1&gt;</title>" in out
    embedded = [i for i in parser.images if i["src"].startswith("data:image/png;base64,")]
    assert len(embedded) == 1 and embedded[0]["alt"] == "g.f"
    assert base64.b64decode(embedded[0]["src"].split(",", 1)[1]) == png
    assert [i["src"] for i in parser.images if i not in embedded] == ["plots/none.png"]
