"""Logging that never carries a document's text.

Libraries that parse documents log what they find in them: pypdf's warnings quote raw bytes of
a damaged PDF (its title, its objects), and one damaged 68 KB file wrote 8 MB of them. Their
loggers are switched off; Reader's own messages name kinds and counts, never content. Errors
in those libraries still reach the user, as exceptions translated into problems.
"""

from __future__ import annotations

import logging

# Loggers of libraries that read document content (children inherit the level).
CONTENT_LOGGERS = ("pypdf", "PyPDF2", "ocrmypdf", "pikepdf", "PIL", "img2pdf", "mammoth", "trafilatura",
                   "htmldate", "courlan", "justext", "readability", "charset_normalizer", "lxml", "fontTools")
OFF = logging.CRITICAL + 1


def quiet_content_loggers() -> None:
    """Switch off the loggers that could quote a document (idempotent)."""
    for name in CONTENT_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(OFF)
