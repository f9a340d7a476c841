"""JSON job (de)serializer shared by the worker and every Python producer.

arq uses one pair of functions for job definitions *and* result records. The TypeScript producer
writes plain JSON, so pickle is not an option. The ``default=`` hook keeps what plain ``json.dumps``
would lose: exceptions (a failed job's ``r``) become ``{"__exc__": <type name>, "msg": <str>}``,
datetimes/dates ISO-8601 strings, UUIDs and Decimals strings, sets sorted lists.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any


def json_default(o: object) -> Any:
    """Maps the values ``json`` cannot encode to JSON-friendly ones (never raises)."""
    if isinstance(o, BaseException):
        return {"__exc__": type(o).__name__, "msg": str(o)}
    if isinstance(o, datetime.datetime | datetime.date | datetime.time):
        return o.isoformat()
    if isinstance(o, uuid.UUID | decimal.Decimal):
        return str(o)
    if isinstance(o, set | frozenset):
        return sorted((json_default(v) if not isinstance(v, str | int | float) else v for v in o), key=str)
    if isinstance(o, bytes):
        return o.decode("utf-8", errors="replace")
    return repr(o)


def job_serializer(d: dict[str, Any]) -> bytes:
    """Serializes an arq job definition or result record to compact UTF-8 JSON."""
    return json.dumps(d, default=json_default, separators=(",", ":"), ensure_ascii=False).encode()


def job_deserializer(b: bytes | str) -> dict[str, Any]:
    """Parses a stored job definition or result record; anything but a JSON object is an error."""
    value = json.loads(b)
    if not isinstance(value, dict):
        raise ValueError("an arq record must be a JSON object")
    return value
