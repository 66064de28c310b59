"""HTML -> blocks: the main content (trafilatura judges the boilerplate), or the whole visible page."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree
from lxml.html import HtmlElement

from ..errors import Unprocessable
from .model import Block
from .text import normalise

_SPACE = re.compile(r"\s+")
_TITLE_PARTS = re.compile(r"\s+[|\u2013\u2014\u00b7\u2022:-]\s+")
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.\-]+)""")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG Encoding: these labels mean windows-1252 in browsers, which is what pages rely on.
_AS_1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "ascii", "us-ascii", "cp819"}
# Elements nobody sees or hears.
_INVISIBLE_TAGS = ("script", "style", "template", "noscript", "head", "svg", "math", "iframe",
                   "object", "embed", "canvas", "audio", "video", "select", "button", "input",
                   "textarea", "dialog")
# Read as markup by libxml2 (a browser with scripting reads <noscript> as raw text), so an
# unclosed <div> inside one swallows the rest of the page. Nobody sees them: cut them as text.
_RAW_OPEN = re.compile(r"<(noscript|template)\b", re.I)
# libxml2 parses HTML4: an open <p> swallows the HTML5 sections after it, where a browser closes
# the paragraph; so a paragraph left open (a hidden one included) must not take them in.
_CLOSES_P = re.compile(r"(?=<(?:main|article|section|header|footer|nav|aside|figure|figcaption|details|dialog"
                       r"|hgroup|menu|search|summary)\b)", re.I)
# And inside <svg> or <math> it keeps HTML that a browser takes out of the drawing: an unclosed
# drawing swallows the page after it.
_FOREIGN_OPEN = re.compile(r"<(svg|math)\b", re.I)
_BREAKS_OUT = re.compile(r"<(?:p|div|h[1-6]|ul|ol|dl|table|blockquote|pre|main|article|section|header|footer|nav"
                         r"|aside|body|hr|li)\b", re.I)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_CODE_CLASS = re.compile(r"\b(?:code|highlight|sourceCode|language-|lang-|hljs|prettyprint|syntax)", re.I)
_ALT_JUNK = re.compile(r"^(?:image|img|photo|picture|icon|logo|spacer|graphic|thumbnail|banner|avatar)?"
                       r"[\s_\-]*\d*$|\.(?:jpe?g|png|gif|webp|svg|avif)$", re.I)
# Empty elements (icons, spacers, what hidden-element removal emptied) are dropped before
# trafilatura, whose precision mode prunes them with the text after them: a paragraph read as
# "Given a set of" and nothing more. These, and the ones trafilatura prunes (CUT_EMPTY_ELEMS).
_EMPTY_PRUNED = ("article", "blockquote", "dd", "div", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "li",
                 "main", "p", "pre", "section", "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data",
                 "del", "dfn", "em", "font", "i", "ins", "kbd", "label", "mark", "q", "s", "samp", "small",
                 "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var")
# What a page holds besides its content, by the names sites give it (class, id, role).
_PAGE_PARTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("navigation", re.compile(r"\b(?:nav|navigation|navbar|menu|breadcrumbs?)\b", re.I)),
    ("cookie notice", re.compile(r"cookie|consent|gdpr", re.I)),
    ("comments", re.compile(r"\bcomments?\b|disqus", re.I)),
    ("share buttons", re.compile(r"\b(?:share|sharing|social)\b", re.I)),
    ("advertisements", re.compile(r"\b(?:ad|ads|advert\w*|sponsor\w*|dfp|adslot)\b", re.I)),
)


@dataclass(frozen=True)
class HtmlDocument:
    """What a page gives: blocks of plain text, its title, language and what was left out."""

    blocks: list[Block]
    title: str | None
    language: str | None
    skipped: tuple[str, ...] = field(default_factory=tuple)
    images: tuple[str, ...] = ()  # descriptions (alt texts) of the images left out, in order
    site: str | None = None
    author: str | None = None
    published: str | None = None  # an ISO date


def decode(data: bytes, declared: str | None = None, *, markup: bool = True) -> str:
    """Bytes -> text: BOM, then the HTTP charset, then <meta charset> (markup), then UTF-8, then a guess."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(name, errors="replace")
    head = data[:4096]
    labels: list[str | None] = [declared]
    if markup:
        labels += [m.group(1).decode("ascii") for m in (_META_CHARSET.search(head), _XML_ENCODING.search(head)) if m]
    for label in labels:
        codec = _codec(label)
        if codec:
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    results = from_bytes(data[:200_000])
    best = results.best()
    if best is None:
        return data.decode("cp1252", errors="replace")
    # Western text fits several code pages equally well; browsers default to windows-1252.
    ties = {m.encoding for m in results if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.01}
    return data.decode("cp1252" if "cp1252" in ties else best.encoding, errors="replace")


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _AS_1252:
        return "cp1252"
    if label.startswith("utf-16"):  # a page that can declare it in ASCII is not UTF-16
        return "utf-8"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def language_tag(value: str | None) -> str | None:
    """A cleaned BCP 47 tag from a lang attribute, or None when it is not one."""
    if not value:
        return None
    value = value.strip().replace("_", "-")
    return value if _LANG.match(value) else None


def parse(text: str) -> HtmlElement:
    """Text -> lxml tree, forgiving the faults libxml2 trips on."""
    from trafilatura.utils import load_html

    text = _close_foreign(_CLOSES_P.sub("</p>", _cut_raw_invisible(text)))
    tree = load_html(text if "<html" in text[:2000].lower() else f"<html><body>{text}</body></html>")
    if tree is None:
        raise Unprocessable("This page has no HTML that can be read.")
    return tree


def _cut_raw_invisible(text: str) -> str:
    """`text` without its <noscript> and <template> elements (each up to its closing tag)."""
    lower: str | None = None
    out: list[str] = []
    pos = 0
    for m in _RAW_OPEN.finditer(text):
        if m.start() < pos:
            continue
        lower = lower if lower is not None else text.lower()
        end = lower.find(f"</{m.group(1).lower()}", m.end())
        close = lower.find(">", end) if end >= 0 else -1
        if close < 0:
            break  # never closed: leave the rest to the parser
        out += [text[pos:m.start()], " "]
        pos = close + 1
    return "".join(out) + text[pos:] if out else text


def _close_foreign(text: str) -> str:
    """Close an <svg> or <math> before the first HTML block inside it, as browsers do."""
    if not _FOREIGN_OPEN.search(text):
        return text
    lower = text.lower()
    out: list[str] = []
    pos = 0
    for m in _FOREIGN_OPEN.finditer(text):
        if m.start() < pos:
            continue
        name = m.group(1).lower()
        end = lower.find(f"</{name}", m.end())
        breaks = _BREAKS_OUT.search(text, m.end(), end if end >= 0 else len(text))
        if breaks is None:
            continue
        if "<foreignobject" in lower[m.end():breaks.start()]:
            continue  # HTML inside a drawing, where it belongs
        out += [text[pos:breaks.start()], f"</{name}>"]
        pos = breaks.start()
    return "".join(out) + text[pos:] if out else text


def html_document(data: bytes | str, *, mode: str = "article", http_charset: str | None = None,
                  url: str | None = None, metadata: bool = True) -> HtmlDocument:
    """A page -> its blocks: the main content, or (mode="page") everything visible. `url`, where
    the page came from, resolves its relative links (without it only absolute links are kept).
    `metadata=False` skips site, author and date (a book's chapters have none of their own)."""
    text = decode(data, http_charset) if isinstance(data, bytes) else data
    tree = parse(text)
    language = language_tag(tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang"))
    if language is None:
        meta = tree.find(".//meta[@http-equiv='content-language']")
        language = language_tag(meta.get("content", "").split(",")[0]) if meta is not None else None
    title = _title(tree)
    about: dict[str, str | None] = _about(tree, url) if metadata else dict.fromkeys(("site", "author", "published"))
    _drop_invisible(tree)
    if mode == "article":
        found = _article(tree, title, language, url, about)
        if found.blocks:
            return found
        # Too little text for trafilatura to judge (a short note, a form page): read it all,
        # from a fresh tree, since the article pass changed this one.
        tree = parse(text)
        _drop_invisible(tree)
    body = tree.find("body")
    walked = _blocks(body if body is not None else tree, _HTML, language, url)
    return HtmlDocument(walked.blocks, title, language, tuple(_images_skipped(walked)), tuple(walked.images),
                        **about)


def _about(tree: HtmlElement, url: str | None) -> dict[str, str | None]:
    """Site name, author and date of publication, from the page's metadata (trafilatura's)."""
    from trafilatura.metadata import extract_metadata

    try:
        meta = extract_metadata(tree, default_url=url)
    except Exception:  # metadata is a nicety: a page it trips on is still read
        return {"site": None, "author": None, "published": None}

    def clean(value: object, limit: int) -> str | None:
        text = _key(normalise(str(value))) if value else ""
        return text[:limit] if text else None

    return {"site": clean(meta.sitename or meta.hostname, 100), "author": clean(meta.author, 200),
            "published": clean(meta.date, 10)}


def _images_skipped(walked: _Walked) -> list[str]:
    n = len(walked.images) + walked.unnamed_images
    if not n:
        return []
    if not walked.images:
        return [_count(n, "image") + " without a description"]
    if walked.unnamed_images:
        return [f"{_count(n, 'image')}, {walked.unnamed_images} without a description"]
    return [_count(n, "image")]


def _article(tree: HtmlElement, title: str | None, language: str | None, url: str | None,
             about: dict[str, str | None]) -> HtmlDocument:
    import trafilatura

    skipped = _page_parts(tree)
    code = [pre for pre in tree.iter("pre") if _is_code(pre)]
    for pre in code:
        _remove(pre)
    langs = _lang_index(tree, language)
    captions = _unwrap_figures(tree)
    _drop_empty(tree)
    tables = sum(1 for t in tree.iter("table") if _is_data_table(t))
    # The page as Reader reads it whole: its links, and where its images stand. (trafilatura's
    # own include_links loses the text before a link on some sites, and include_images
    # changes what it keeps; both measured on the benchmark.)
    source_body = tree.find("body")
    source = _blocks(source_body if source_body is not None else tree, _HTML, language, url)
    result = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, include_tables=True, include_images=False,
        include_formatting=True, favor_precision=True,
    )
    body = getattr(result, "body", None)
    if body is None:
        return HtmlDocument([], title, language)
    blocks: list[Block] = []
    walked = _blocks(body, _TRAFILATURA, language, url)
    links = _links_by_text(source.blocks)
    for block in walked.blocks:
        key = _key(block.text)
        kind = "caption" if block.kind == "paragraph" and key in captions else block.kind
        blocks.append(Block(index=len(blocks), kind=kind, text=block.text, level=block.level,
                            lang=langs.get(key), links=_links_for(block.text, links)))
    walked = _content_images(source, {b.text for b in blocks})
    if code:
        skipped.append(_count(len(code), "code block"))
    kept_tables = sum(1 for _ in body.iter("table"))
    if tables > kept_tables:
        skipped.append(_count(tables - kept_tables, "table"))
    skipped += _images_skipped(walked)
    return HtmlDocument(blocks, title, language, tuple(skipped), tuple(walked.images), **about)


_Links = tuple[tuple[int, int, str], ...]


def _links_by_text(blocks: list[Block]) -> dict[str, tuple[str, _Links]]:
    """The source's blocks that hold links, by their text and by their first 40 characters."""
    index: dict[str, tuple[str, _Links]] = {}
    for block in blocks:
        if block.links:
            index[block.text] = (block.text, block.links)
            index.setdefault("\0" + block.text[:40], (block.text, block.links))
    return index


def _links_for(text: str, index: dict[str, tuple[str, _Links]]) -> _Links:
    """The source's links of a block the extractor kept: all of them when it kept the block
    whole, else those whose text stands at the same place in what it kept (a shortened end)."""
    found = index.get(text) or index.get("\0" + text[:40])
    if found is None:
        return ()
    source, links = found
    if source == text:
        return links
    return tuple(link for link in links if link[1] <= len(text) and text[link[0]:link[1]] == source[link[0]:link[1]])


_FURNITURE = frozenset({"nav", "footer", "aside", "header", "menu"})


def _tiny(img: etree._Element) -> bool:
    """A tracking pixel or spacer, by its stated size."""
    for name in ("width", "height"):
        value = (img.get(name) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) <= 2:
            return True
    return False


def _content_images(source: _Walked, kept: set[str]) -> _Walked:
    """The images of the page that stand next to text the extractor kept."""
    def near(at: int) -> bool:
        return at >= 0 and any(0 <= i < len(source.blocks) and source.blocks[i].text in kept for i in (at - 1, at))

    found = _Walked()
    for alt, at in zip(source.images, source.image_at):
        if near(at) and alt not in found.images and alt not in kept:  # a caption already read
            found.images.append(alt)
    found.unnamed_images = sum(1 for at in source.unnamed_at if near(at))
    return found


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _key(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _title(tree: HtmlElement) -> str | None:
    """og:title, else <title> without the site name, else the first <h1>."""
    h1 = tree.find(".//h1")
    heading = _key(h1.text_content()) if h1 is not None else ""
    for path in (".//meta[@property='og:title']", ".//meta[@name='twitter:title']"):
        meta = tree.find(path)
        if meta is not None and _key(meta.get("content", "")):
            return _key(meta.get("content", ""))
    el = tree.find(".//title")
    title = _key(el.text_content()) if el is not None else ""
    if heading and (not title or heading in title):
        return heading
    if title:
        # "Story – Site Name": the longest part is the story more often than not
        return max(_TITLE_PARTS.split(title), key=len).strip() or title
    return heading or None


def _remove(el: HtmlElement) -> None:
    """Drop an element but keep its tail, which belongs to the parent's text."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _drop_invisible(tree: HtmlElement) -> None:
    for el in list(tree.iter(*_INVISIBLE_TAGS, etree.Comment, etree.ProcessingInstruction)):
        if el.tag == "head":
            continue  # holds the title and metadata, never walked for text anyway
        _remove(el)
    for el in list(tree.iter()):
        if not isinstance(el.tag, str):
            continue
        if (el.get("hidden") is not None or el.get("aria-hidden") == "true"
                or _HIDDEN_STYLE.search(el.get("style", ""))):
            _remove(el)


def _drop_empty(tree: HtmlElement) -> None:
    """Remove elements that hold no text, keeping the text after them, innermost first."""
    for el in reversed(list(tree.iter(*_EMPTY_PRUNED))):
        # innermost first: an element whose children were all empty has none left by now
        if len(el) == 0 and not (el.text or "").strip():
            el.tail = (el.text or "") + (el.tail or "")  # "a<span> </span>b" stays two words
            _remove(el)


def _unwrap_figures(tree: HtmlElement) -> set[str]:
    """Figures as plain paragraphs, so trafilatura judges them as text; returns their texts.

    trafilatura drops <figure> captions. A caption turned into a <p> survives when it belongs
    to the content, and is known for a caption afterwards by its text. The images themselves
    are not read: their descriptions are listed as left out, to be read on request.
    """
    texts: set[str] = set()
    for figure in list(tree.iter("figure")):
        figure.tag = "div"
        for caption in figure.iter("figcaption"):
            caption.tag = "p"
            texts.add(_key(caption.text_content()))
    return texts


def _is_code(pre: HtmlElement) -> bool:
    if pre.find(".//code") is not None or pre.find(".//kbd") is not None:
        return True
    names = " ".join(filter(None, (pre.get("class"), pre.get("lang"),
                                   pre.getparent().get("class") if pre.getparent() is not None else None)))
    return bool(_CODE_CLASS.search(names))


def _is_data_table(table: HtmlElement) -> bool:
    if table.get("role") in ("presentation", "none") or table.find(".//table") is not None:
        return False
    rows = [r for r in table.iter("tr") if _key(r.text_content())]
    return len(rows) >= 2


def _page_parts(tree: HtmlElement) -> list[str]:
    """Names of the page furniture found (trafilatura leaves it out), for the skipped report."""
    found: list[str] = []
    body = tree.find("body")
    if body is None:
        return found
    if body.find(".//nav") is not None or body.find(".//*[@role='navigation']") is not None:
        found.append("navigation")
    for el in body.xpath(".//*[@class or @id]"):
        if el.tag in ("main", "article"):
            continue
        names = f"{el.get('class', '')} {el.get('id', '')}"
        for label, pattern in _PAGE_PARTS:
            if label not in found and pattern.search(names) and _key(el.text_content()):
                found.append(label)
        if len(found) == len(_PAGE_PARTS):
            break
    return found


def _lang_index(tree: HtmlElement, language: str | None) -> dict[str, str]:
    """Block text -> its language, where an element says it differs from the page's."""
    index: dict[str, str] = {}
    for marked in tree.iterfind(".//body//*[@lang]"):
        lang = language_tag(marked.get("lang"))
        if lang is None or lang == language:
            continue
        for el in marked.iter():
            if isinstance(el.tag, str) and (el is marked or el.tag in _HTML.blocks):
                index.setdefault(_key(el.text_content()), lang)
    return index


@dataclass(frozen=True)
class _Vocabulary:
    """How one tree names its blocks: tag -> kind, which tags are containers, heading levels."""

    blocks: dict[str, str]
    containers: frozenset[str]
    level: Callable[[etree._Element], int | None]
    breaks: frozenset[str] = frozenset({"br", "lb"})
    link: str = "a"  # the link element and its address attribute
    href: str = "href"


def _html_level(el: etree._Element) -> int | None:
    tag = str(el.tag)
    return int(tag[1]) if tag[:1] == "h" and tag[1:].isdigit() else None


def _xml_level(el: etree._Element) -> int | None:
    rend = el.get("rend", "")
    return int(rend[1]) if rend[:1] == "h" and rend[1:].isdigit() else 2


_HTML = _Vocabulary(
    blocks={**{f"h{n}": "heading" for n in range(1, 7)}, "p": "paragraph", "li": "list_item",
            "dt": "list_item", "dd": "list_item", "blockquote": "quote", "td": "cell", "th": "cell",
            "figcaption": "caption", "caption": "caption", "pre": "preformatted",
            "summary": "paragraph"},
    containers=frozenset({"html", "body", "div", "section", "article", "main", "header", "footer",
                          "nav", "aside", "ul", "ol", "dl", "menu", "table", "thead", "tbody", "tfoot",
                          "tr", "figure", "form", "fieldset", "legend", "details", "address", "hr",
                          "center", "hgroup", "search", "label", "option", "optgroup"}),
    level=_html_level,
)
_TRAFILATURA = _Vocabulary(
    blocks={"head": "heading", "p": "paragraph", "item": "list_item", "quote": "quote",
            "cell": "cell", "code": "preformatted"},
    containers=frozenset({"doc", "main", "body", "list", "table", "row", "div", "comments"}),
    level=_xml_level,
    link="ref",
    href="target",
)
# Inside these, a paragraph takes the kind of what holds it: a paragraph of a quote is a quote.
_ENCLOSING = frozenset({"quote", "list_item", "cell", "caption"})


_LINK_OPEN, _LINK_CLOSE = "\ue000", "\ue001"  # private-use marks around a link's text while walking
_SAFE_SCHEMES = ("http", "https", "mailto")
_SPACE_IN_OPEN = re.compile(f"({_LINK_OPEN})(\\s+)")
_SPACE_IN_CLOSE = re.compile(f"(\\s+)({_LINK_CLOSE})")


def link_target(href: str | None, base: str | None) -> str | None:
    """An absolute http(s) or mailto address for a link, or None (scripts, data:, fragments,
    relative links with nothing to resolve them against)."""
    from urllib.parse import urljoin, urlsplit

    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    try:
        target = urljoin(base, href) if base else href
        parts = urlsplit(target)
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or (parts.scheme.lower() != "mailto" and not parts.netloc):
        return None
    return target if len(target) <= 2000 and not any(c in target for c in "\n\r\t <>\"") else None


@dataclass
class _Walked:
    blocks: list[Block] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # alt texts, in reading order
    unnamed_images: int = 0
    # where each image stands: how many blocks came before it (the same order as images, then
    # the unnamed ones)
    image_at: list[int] = field(default_factory=list)
    unnamed_at: list[int] = field(default_factory=list)


def _take_links(text: str, hrefs: list[str]) -> tuple[str, tuple[tuple[int, int, str], ...]]:
    """Text with link marks -> the plain text and (start, end, address) of each link in it."""
    if _LINK_OPEN not in text:
        return text.replace(_LINK_CLOSE, ""), ()
    out: list[str] = []
    links: list[tuple[int, int, str]] = []
    length, opened, n = 0, -1, 0
    pending: str | None = None
    for ch in text:
        if ch == _LINK_OPEN:
            pending, n = hrefs[n] if n < len(hrefs) else None, n + 1
            opened = length
        elif ch == _LINK_CLOSE:
            if pending and opened >= 0:
                seg = "".join(out)[opened:length]
                start = opened + len(seg) - len(seg.lstrip())
                end = length - (len(seg) - len(seg.rstrip()))
                if end > start:
                    links.append((start, end, pending))
            pending, opened = None, -1
        else:
            out.append(ch)
            length += 1
    return "".join(out), tuple(links)


def _blocks(root: etree._Element, vocab: _Vocabulary, language: str | None,
            base: str | None = None) -> _Walked:
    """Walk a tree and return its blocks in reading order, with the images it leaves out."""
    walker = _Walker(vocab, language, base)
    walker.walk(root, "paragraph", None, language, False)
    walker.flush("paragraph", None, language)
    return walker.found


class _Walker:
    """One walk of a tree: the text of the block being read (with link marks), and what was found."""

    def __init__(self, vocab: _Vocabulary, language: str | None, base: str | None) -> None:
        self.vocab, self.language, self.base = vocab, language, base
        self.parts: list[str] = []
        self.hrefs: list[str] = []
        self.found = _Walked()

    def flush(self, kind: str, level: int | None, lang: str | None) -> None:
        """The text read since the last block ends one (if there is any)."""
        raw = "".join(self.parts)
        self.parts.clear()
        if self.hrefs:  # spaces go outside the link marks, to be collapsed and trimmed with the rest
            raw = _SPACE_IN_OPEN.sub(lambda m: m.group(2) + m.group(1), raw)
            raw = _SPACE_IN_CLOSE.sub(lambda m: m.group(2) + m.group(1), raw)
        if kind == "preformatted":
            text = normalise(raw).strip("\n").rstrip()
        else:
            text = _key(normalise(raw))
        text, links = _take_links(text, self.hrefs)
        self.hrefs.clear()
        out = self.found.blocks
        if text:
            out.append(Block(index=len(out), kind=kind, text=text,
                             level=level if kind == "heading" else None,
                             lang=lang if lang != self.language else None, links=links))

    def walk(self, el: etree._Element, kind: str, level: int | None, lang: str | None, inline: bool) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        own = (language_tag(el.get("lang")) or lang) if tag else lang
        vocab = self.vocab
        block = vocab.blocks.get(tag)
        if block == "preformatted" and inline and "\n" not in "".join(el.itertext()):
            block = None  # inline code inside a sentence is part of the sentence
        if tag in ("img", "graphic"):
            self.image(el)
        elif block is not None or tag in vocab.containers:
            self.block(el, block, kind, level, lang, own)
        elif tag in vocab.breaks:
            self.parts.append("\n")
        elif tag:
            self.inline(el, block, kind, level, own, inline)
        if el.tail:
            self.parts.append(el.tail)

    def image(self, el: etree._Element) -> None:
        found = self.found
        alt = _key(normalise(el.get("alt") or ""))[:1000]
        # where it stands (after how many blocks); negative: in the page's furniture
        at = -1 if any(a.tag in _FURNITURE for a in el.iterancestors()) else len(found.blocks)
        if alt and not _ALT_JUNK.search(alt):
            found.images.append(alt)
            found.image_at.append(at)
        elif el.get("alt") is None and not _tiny(el):  # alt="" says it is decoration
            found.unnamed_images += 1
            found.unnamed_at.append(at)

    def block(self, el: etree._Element, block: str | None, kind: str, level: int | None, lang: str | None,
              own: str | None) -> None:
        """A block element (or a container of blocks): what came before it ends, and so does it."""
        self.flush(kind, level, lang)
        inner = block or kind
        if block == "paragraph" and kind in _ENCLOSING:
            inner = kind
        inner_level = self.vocab.level(el) if block == "heading" else level
        if el.text:
            self.parts.append(el.text)
        for child in el:
            self.walk(child, inner, inner_level, own, block is not None)
        self.flush(inner, inner_level, own)

    def inline(self, el: etree._Element, block: str | None, kind: str, level: int | None, own: str | None,
               inline: bool) -> None:
        """An inline element: its text is part of the block around it (a link's, marked)."""
        vocab = self.vocab
        is_link = el.tag == vocab.link and block != "preformatted"
        target = link_target(el.get(vocab.href), self.base) if is_link else None
        if target:
            self.parts.append(_LINK_OPEN)
            self.hrefs.append(target)
        if el.text:
            self.parts.append(el.text)
        for child in el:
            self.walk(child, kind, level, own, inline)
        if target:
            self.parts.append(_LINK_CLOSE)
