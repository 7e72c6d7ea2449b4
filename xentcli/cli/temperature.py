"""``--temperature-from T.json``: apply a temperature fitted by ``xent calibrate --save``."""

from __future__ import annotations

from xentcli.errors import UsageError
from xentcli.io.temperature import read_temperature

#: ``-t`` of ``xent loss``, where "not given" (None) differs from 1 (see below).


def resolve_temperature(temperature: float | None, path: str | None) -> float:
    """``-t/--temperature`` (default 1), or the one in ``--temperature-from``'s file (not
    both: ``-t 1`` counts as given)."""
    if path is None:
        return 1.0 if temperature is None else temperature
    if temperature is not None:
        raise UsageError(
            "give the temperature with -t/--temperature or --temperature-from, not both"
        )
    return read_temperature(path)
