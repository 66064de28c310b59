"""The error tree: every client-facing error has a unique slug and is drawn in the module docstring."""

from __future__ import annotations

import re

import reader.errors as errors


def test_every_error_has_a_unique_slug_and_is_in_the_docstring() -> None:
    classes = errors.all_errors()
    assert len(classes) > 20
    slugs = [cls.slug for cls in classes]
    assert len(slugs) == len(set(slugs)), sorted(s for s in slugs if slugs.count(s) > 1)
    doc = errors.__doc__ or ""
    for cls in classes:
        line = re.search(rf"^\s*(?:[│├└─ ]*)\b{cls.__name__}\s+(\d{{3}}) (\S+)", doc, re.M)
        assert line, f"{cls.__name__} is missing from the tree in reader/errors.py"
        assert (int(line.group(1)), line.group(2)) == (cls.status, cls.slug), cls.__name__


def test_errors_live_in_one_module() -> None:
    """No client-facing error class is declared anywhere but reader/errors.py."""
    assert all(cls.__module__ == "reader.errors" for cls in errors.all_errors())
