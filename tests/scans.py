"""Pages made for text recognition: a scan of some text (an image, no text layer), and a page
with a real text layer. tests/test_ocr.py and bench/ocr.py both read these."""

from __future__ import annotations

import io
import os
import random
import textwrap


def scanned_page(text: str, *, fmt: str = "PDF", dpi: int = 200, font: str = "DejaVuSerif.ttf", size: int = 34,
                 leading: int = 54, tilt: float = 0.0, speckle: int = 0, seed: int = 0) -> bytes:
    """A page of `text` as a scanner gives it: a grey image at `dpi` (sizes are given at 200 dpi),
    `speckle` dots of dirt, turned by `tilt` degrees; PDF, PNG or TIFF (LZW, as scanners write)."""
    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    scale = dpi / 200
    face = ImageFont.truetype(os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data/fonts/ttf", font),
                              int(size * scale))
    img = Image.new("L", (int(1700 * scale), int(2200 * scale)), 255)
    draw = ImageDraw.Draw(img)
    for n, line in enumerate(textwrap.wrap(text, 72)):
        draw.text((int(150 * scale), int((200 + leading * n) * scale)), line, font=face, fill=0)
    rng = random.Random(seed)
    for _ in range(int(speckle * scale)):
        draw.point((rng.randrange(img.width), rng.randrange(img.height)), fill=rng.randrange(0, 160))
    if tilt:
        img = img.rotate(tilt, fillcolor=255, resample=Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    # Compressed as scanners do (an uncompressed TIFF would also make the test client spool to disk).
    extra = {"compression": "tiff_lzw"} if fmt == "TIFF" else {}
    img.save(buf, format=fmt, resolution=float(dpi), **extra)
    return buf.getvalue()


def text_layer_pdf(text: str, width: int = 72) -> bytes:
    """A page with a real text layer (matplotlib's PDF backend), `width` characters a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(8.5, 11))
    for n, line in enumerate(textwrap.wrap(text, width)):
        fig.text(0.1, 0.9 - 0.03 * n, line, fontsize=11)
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf")
    plt.close(fig)
    return buf.getvalue()
