"""Request bodies, parsed in one place: every malformed body is a 400, never a 500."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from ..errors import MalformedBody, UnsupportedMedia

MAX_DEPTH = 32  # no request of Reader's nests deeper than a few levels


def json_object() -> dict[str, Any]:
    """The request's JSON object: UTF-8, no deeper than MAX_DEPTH, no lone surrogates."""
    if not request.is_json:
        raise UnsupportedMedia("Send JSON (Content-Type: application/json).")
    try:
        text = request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody("The body is not valid UTF-8.") from exc
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise MalformedBody(f"The JSON is nested too deeply (at most {MAX_DEPTH} levels).") from exc
    except ValueError as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc.msg} at character {exc.pos}."
                            if isinstance(exc, json.JSONDecodeError) else "The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise MalformedBody("The body must be a JSON object.")
    check(data)
    return data


def check(value: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings that cannot be encoded (lone surrogates)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                raise MalformedBody("The text contains invalid characters (unpaired UTF-16 surrogates).")
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise MalformedBody(f"The JSON is nested too deeply (at most {MAX_DEPTH} levels).")
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        else:
            stack.extend((v, depth + 1) for v in item)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
