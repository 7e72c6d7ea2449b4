"""Reading a saved temperature (``xent calibrate --save T.json``) back."""

from __future__ import annotations

import json
import math
from typing import Any

from xentcli.errors import DataError, InputError

SCHEMA_TEMPERATURE = "xent.temperature/1"
#: Documents that carry a fitted temperature at their top level.
ACCEPTED_SCHEMAS = (SCHEMA_TEMPERATURE, "xent.calibrate/1")
_FIX = 'expected a file written by xent calibrate --save, such as {"temperature": 1.5}'


def read_temperature(path: str) -> float:
    """The ``temperature`` of a JSON file written by ``xent calibrate --save`` (or of
    the ``-f json`` output of ``xent calibrate``, or of any ``{"temperature": T}``).

    Raises
    ------
    InputError
        The file is missing or unreadable (exit 66).
    DataError
        Not JSON, not an object, another schema, or no positive finite temperature
        (exit 65).
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where=path) from None
    try:
        doc: Any = json.loads(data, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, json.JSONDecodeError):
            detail = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
        else:
            detail = str(exc)
        raise DataError(f"not valid JSON ({detail}); {_FIX}", where=path) from None
    if not isinstance(doc, dict):
        raise DataError(f"a JSON {type(doc).__name__}, not an object; {_FIX}", where=path)
    schema = doc.get("schema")
    if schema is not None and schema not in ACCEPTED_SCHEMAS:
        raise DataError(f"schema {schema!r} holds no temperature; {_FIX}", where=path)
    if "temperature" not in doc:
        raise DataError(f'no "temperature" key; {_FIX}', where=path)
    t = doc["temperature"]
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise DataError(f'"temperature" is {json.dumps(t)}, not a number', where=path)
    if not (math.isfinite(t) and t > 0):
        raise DataError(f'"temperature" is {t!r}; it must be positive and finite', where=path)
    return float(t)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")
