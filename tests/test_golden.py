"""Golden files: tables rendered for a non-terminal (plain text at natural width).

Each case is a directory of ``tests/golden/``: ``args`` (the ``xent`` arguments, one shell
line, paths relative to the repository root) and ``expected.txt`` (the exact stdout,
trailing spaces included). To regenerate after an intended change, from the repository
root, then review the diff::

    for d in tests/golden/*/; do python -m xentcli $(cat "$d/args") > "$d/expected.txt"; done
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "args").is_file())


def test_golden_cases_exist() -> None:
    assert {"seed3_table", "logits_summary_table"} <= set(CASES)


# Environment that makes Rich think a StringIO is a narrow terminal (CI systems set these);
# plain-text output must not change.
TERMINAL_ENV = {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "TERM": "dumb", "COLUMNS": "40"}


@pytest.mark.parametrize("env", [{}, TERMINAL_ENV], ids=["clean_env", "terminal_env"])
@pytest.mark.parametrize("case", CASES)
def test_golden(
    case: str,
    env: dict[str, str],
    run_xent: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = shlex.split((GOLDEN / case / "args").read_text(encoding="utf-8"))
    expected = (GOLDEN / case / "expected.txt").read_text(encoding="utf-8")
    monkeypatch.chdir(ROOT)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TERM", "COLUMNS", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    result = run_xent(*args)

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert "\x1b" not in result.stdout
    assert "…" not in result.stdout  # never cut to a terminal width
    assert result.stdout == expected
