"""EPUB 3 read-along books: XHTML chapters with an id per sentence, and Media Overlays (SMIL)
that tie each sentence to its span of the narration, so that a reading system highlights the
text as it plays (the `-epub-media-overlay-active` class).

Plain zip and templates: every file is small and written here, which stays clearer than a
general e-book library for the overlay parts. Text is always escaped; no source markup is
ever copied into the book.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zipfile
from collections.abc import Sequence
from html import escape
from pathlib import Path

from ..documents.model import Block, Document
from .plan import Chapter

ACTIVE_CLASS = "-epub-media-overlay-active"
_CSS = f"""body {{ font-family: serif; line-height: 1.5; margin: 1em; }}
.{ACTIVE_CLASS} {{ background-color: #ffe066; color: #000; }}
.caption {{ font-style: italic; }}
"""


def _clock(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h}:{m:02d}:{s:02d}.{ms:03d}"


def _block_html(doc: Document, block: Block, sentence_ids: dict[int, list[tuple[int, int, str]]]) -> str:
    """One block as XHTML, each sentence in a span with its id (offsets are into the block's text)."""
    text = block.text
    parts: list[str] = []
    at = 0
    for start, end, sid in sentence_ids.get(block.index, []):
        parts.append(escape(text[at:start]))
        parts.append(f'<span id="{sid}">{escape(text[start:end])}</span>')
        at = end
    parts.append(escape(text[at:]))
    inner = "".join(parts)
    lang = f' xml:lang="{escape(block.lang)}" lang="{escape(block.lang)}"' if block.lang else ""
    if block.kind == "heading":
        level = min(max(block.level or 2, 1), 6)
        return f"<h{level}{lang}>{inner}</h{level}>"
    if block.kind == "quote":
        return f"<blockquote{lang}><p>{inner}</p></blockquote>"
    if block.kind == "preformatted":
        return f"<pre{lang}>{inner}</pre>"
    if block.kind == "caption":
        return f'<p class="caption"{lang}>{inner}</p>'
    return f"<p{lang}>{inner}</p>"


def _chapter_xhtml(doc: Document, title: str, blocks: Sequence[Block],
                   sentence_ids: dict[int, list[tuple[int, int, str]]]) -> str:
    body: list[str] = []
    in_list = False
    for block in blocks:
        if block.kind == "list_item":
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(_block_html(doc, block, sentence_ids).replace("<p", "<li", 1).rsplit("</p>", 1)[0] + "</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        body.append(_block_html(doc, block, sentence_ids))
    if in_list:
        body.append("</ul>")
    lang = escape(doc.language)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
            f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
            f'xml:lang="{lang}" lang="{lang}">\n<head><meta charset="UTF-8"/><title>{escape(title)}</title>'
            '<link rel="stylesheet" type="text/css" href="style.css"/></head>\n<body>\n<section id="text">\n'
            + "\n".join(body) + "\n</section>\n</body>\n</html>\n")


def _smil(chapter_file: str, audio_file: str, items: Sequence[tuple[str, float, float]]) -> str:
    pars = "\n".join(
        f'    <par id="par-{sid}"><text src="{chapter_file}#{sid}"/>'
        f'<audio src="{audio_file}" clipBegin="{start:.3f}s" clipEnd="{end:.3f}s"/></par>'
        for sid, start, end in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" version="3.0">\n'
            f'  <body>\n  <seq id="seq-1" epub:textref="{chapter_file}#text">\n{pars}\n  </seq>\n  </body>\n</smil>\n')


def write_epub(path: Path, doc: Document, chapters: Sequence[Chapter], spans: Sequence[tuple[float, float]],
               audio_path: Path, *, book_id: str, narrator: str) -> None:
    """The read-along book of `doc`: `spans` are each sentence's (start, end) in `audio_path` (an MP3)."""
    sentence_ids: dict[int, list[tuple[int, int, str]]] = {}
    for s in doc.sentences:
        sentence_ids.setdefault(s.block, []).append((s.start, s.end, f"s{s.index}"))
    files: list[tuple[str, str]] = []  # (name, content)
    manifest: list[str] = []
    spine: list[str] = []
    durations: list[str] = []
    nav_items: list[str] = []
    total = 0.0
    for k, chapter in enumerate(chapters, 1):
        first_block = doc.sentences[chapter.first].block
        last_block = doc.sentences[chapter.last].block
        if k == 1:
            first_block = 0
        if k == len(chapters):
            last_block = len(doc.blocks) - 1
        else:
            last_block = doc.sentences[chapters[k].first].block - 1
        blocks = doc.blocks[first_block:last_block + 1]
        name, smil_name = f"chapter{k}.xhtml", f"chapter{k}.smil"
        files.append((name, _chapter_xhtml(doc, chapter.title, blocks, sentence_ids)))
        items = [(f"s{n}", spans[n][0], spans[n][1]) for n in range(chapter.first, chapter.last + 1)]
        files.append((smil_name, _smil(name, "audio/narration.mp3", items)))
        length = sum(end - start for _, start, end in items)
        total += length
        manifest.append(f'<item id="c{k}" href="{name}" media-type="application/xhtml+xml" media-overlay="o{k}"/>')
        manifest.append(f'<item id="o{k}" href="{smil_name}" media-type="application/smil+xml"/>')
        spine.append(f'<itemref idref="c{k}"/>')
        durations.append(f'<meta property="media:duration" refines="#o{k}">{_clock(length)}</meta>')
        nav_items.append(f'<li><a href="{name}">{escape(chapter.title)}</a></li>')
    lang = escape(doc.language)
    nav = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
           f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="{lang}" '
           f'lang="{lang}">\n<head><meta charset="UTF-8"/><title>Contents</title></head>\n<body>\n'
           '<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>\n' + "\n".join(nav_items) + "\n</ol></nav>\n"
           "</body>\n</html>\n")
    modified = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    identifier = uuid.uuid5(uuid.NAMESPACE_URL, f"reader:narration:{book_id}")
    opf = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="book-id" '
           f'xml:lang="{lang}">\n<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
           f'<dc:identifier id="book-id">urn:uuid:{identifier}</dc:identifier>\n'
           f"<dc:title>{escape(doc.title)}</dc:title>\n<dc:language>{lang}</dc:language>\n"
           f'<dc:contributor id="narrator">{escape(narrator)}</dc:contributor>\n'
           '<meta refines="#narrator" property="role" scheme="marc:relators">nrt</meta>\n'
           f'<meta property="dcterms:modified">{modified}</meta>\n'
           f'<meta property="media:duration">{_clock(total)}</meta>\n' + "\n".join(durations) + "\n"
           f'<meta property="media:active-class">{ACTIVE_CLASS}</meta>\n</metadata>\n<manifest>\n'
           '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>\n'
           '<item id="css" href="style.css" media-type="text/css"/>\n'
           '<item id="audio" href="audio/narration.mp3" media-type="audio/mpeg"/>\n'
           + "\n".join(manifest) + "\n</manifest>\n<spine>\n" + "\n".join(spine) + "\n</spine>\n</package>\n")
    container = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                 '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">\n'
                 '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                 "</rootfiles>\n</container>\n")
    with zipfile.ZipFile(path, "w") as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml", container, compress_type=zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/nav.xhtml", nav, compress_type=zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/style.css", _CSS, compress_type=zipfile.ZIP_DEFLATED)
        for name, content in files:
            book.writestr(f"OEBPS/{name}", content, compress_type=zipfile.ZIP_DEFLATED)
        book.write(audio_path, "OEBPS/audio/narration.mp3", compress_type=zipfile.ZIP_STORED)
