"""HTML mail bodies: sanitised for display (nh3), and turned into plain text for mail that has no text part.

Both survive hostile input: nh3's parser bounds nesting, and the text converter is a flat event loop over
``html.parser`` (no recursion), so a 10,000-deep tree costs time proportional to its size and nothing more.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

# Inline styles are how mail is laid out; only these properties survive (no url(), no position, no expressions).
_STYLE_PROPERTIES = {
    "background-color", "border", "border-bottom", "border-collapse", "border-color", "border-left", "border-right",
    "border-spacing", "border-style", "border-top", "border-width", "color", "direction", "font", "font-family",
    "font-size", "font-style", "font-weight", "height", "letter-spacing", "line-height", "list-style-type", "margin",
    "margin-bottom", "margin-left", "margin-right", "margin-top", "max-width", "min-width", "padding",
    "padding-bottom", "padding-left", "padding-right", "padding-top", "text-align", "text-decoration",
    "text-indent", "text-transform", "vertical-align", "white-space", "width", "word-break",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"style", "title", "dir", "lang", "align", "valign", "width", "height"},
    "a": {"href", "name"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan", "bgcolor"},
    "th": {"colspan", "rowspan", "bgcolor", "scope"},
    "table": {"border", "cellpadding", "cellspacing", "bgcolor", "summary"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type"},
    "blockquote": {"cite", "type"},
}
_DROPPED_WITH_CONTENT = {"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg", "math"}
_CLEANER = nh3.Cleaner(
    tags=nh3.ALLOWED_TAGS | {"font"},
    clean_content_tags=_DROPPED_WITH_CONTENT,
    attributes=_ATTRIBUTES,
    # cid: so the lead can point inline images at their stored attachment; no data:, no javascript:
    url_schemes={"http", "https", "mailto", "tel", "cid"},
    filter_style_properties=_STYLE_PROPERTIES,
    link_rel="noopener noreferrer nofollow",
)


def sanitize_html(html: str) -> str:
    """HTML that is safe to show to an agent: no scripts, no event handlers, no dangerous URLs or styles; tables,
    line breaks, links and inline images (``cid:``) kept."""
    return _CLEANER.clean(html)


# --- HTML to text --------------------------------------------------------------------------------------------------

_BLOCKS = {
    "address", "article", "aside", "blockquote", "center", "dd", "details", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
}  # fmt: skip
_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "blockquote", "pre", "hr"}
_HIDDEN = {"script", "style", "head", "title", "template", "noscript"}
_CELLS = {"td", "th"}


class _TextExtractor(HTMLParser):
    """Collects text lines; lines inside <blockquote> get "> " per level, as a text mail client quotes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.line_quote = 0  # quote depth of the line being built
        self.quote = 0
        self.hidden = 0
        self.pre = 0
        self.href: str | None = None
        self.link_text: list[str] = []

    def _break(self, *, force: bool = False) -> None:
        """End the line being built; an empty one only counts when forced (<br>)."""
        text = "".join(self.line)
        if not self.pre:
            text = " ".join(text.split())
        if text or force:
            self.lines.append("> " * self.line_quote + text if self.line_quote else text)
        self.line = []
        self.line_quote = self.quote

    def _gap(self) -> None:
        """A blank line after a paragraph-like block, never two in a row."""
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append("> " * self.quote if self.quote else "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self._break(force=True)
        elif tag in _BLOCKS:
            self._break()
            if tag == "blockquote":
                self.quote += 1
                self.line_quote = self.quote
            elif tag == "pre":
                self.pre += 1
            elif tag == "li":
                self.line.append("- ")
        elif tag in _CELLS:
            if self.line and not self.line[-1].endswith(" "):
                self.line.append(" ")
        elif tag == "a":
            self.href = dict(attrs).get("href")
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self._break()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
                self.line_quote = self.quote
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
            if tag in _PARAGRAPHS:
                self._gap()
        elif tag == "a" and self.href:
            shown = " ".join("".join(self.link_text).split())
            if self.href.startswith(("http://", "https://")) and shown and shown != self.href:
                self.line.append(f" <{self.href}>")
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
        self.line.append(data)
        if self.href is not None:
            self.link_text.append(data)

    def text(self) -> str:
        self._break()
        while self.lines and not self.lines[-1].strip("> "):
            self.lines.pop()
        return "\n".join(line.rstrip() for line in self.lines).strip("\n")


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: blocks and <br> become line breaks, links keep their address, quoted
    parts (<blockquote>) are marked with "> " so quoted history can be trimmed as in a text mail."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup: keep what it read
        pass
    return extractor.text()
