"""Architecture checks: the core is a library that loads neither Typer nor Rich."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "xentcli"


def python(code: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``python -c CODE`` in a fresh interpreter, from the root of the checkout."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=check, cwd=ROOT
    )


@pytest.mark.parametrize("module", ["xentcli.core", "xentcli"])
def test_importing_the_library_loads_neither_typer_nor_rich(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click')); "
        "print(','.join(bad))"
    )
    out = python(code)
    assert out.stdout.strip() == ""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


# What each layer may import from xentcli (imports run cli -> io, render -> core).
ALLOWED = {
    "core": {"xentcli.core", "xentcli.errors"},
    "io": {"xentcli.io", "xentcli.errors"},
    "render": {"xentcli.render", "xentcli.core", "xentcli.errors"},
}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_downwards(layer: str) -> None:
    for path in sorted((PACKAGE / layer).glob("*.py")):
        ours = {m for m in _imports(path) if m.startswith("xentcli")}
        bad = {m for m in ours if not any(m.startswith(a) for a in ALLOWED[layer])}
        assert not bad, f"{path.name} imports {bad}"
        third_party = {m.split(".")[0] for m in _imports(path)} - {"xentcli"}
        assert not third_party & {"typer", "click"}, path.name
        if layer != "render":
            assert "rich" not in third_party, path.name


def test_the_command_line_starts_without_rich_or_metadata() -> None:
    # Start-up time (issue 5): Rich is for tables, importlib.metadata for --version only.
    code = (
        "import sys, xentcli.cli; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'rich' "
        "or m == 'importlib.metadata'); print(','.join(bad))"
    )
    out = python(code)
    assert out.stdout.strip() == ""


def test_version_answers_without_loading_numpy() -> None:
    code = (
        "import sys; sys.argv = ['xent', '--version']; from xentcli.cli import main; "
        "main(); print('numpy' in sys.modules, 'typer' in sys.modules)"
    )
    out = python(code)
    version, loaded = out.stdout.splitlines()
    assert version.startswith("xent ")
    assert loaded == "False False"


def test_a_loss_run_loads_only_its_own_command() -> None:
    # Start-up time (issue 5): `xent loss` builds the application with `loss` alone, so
    # the other commands' modules, temperature scaling, Rich (JSON output) and pydantic
    # (Typer 0.29's coercion layer, excluded by the pin in pyproject.toml) stay unloaded.
    code = (
        "import sys; sys.argv = ['xent', 'loss', 'sample_data/logits.csv', '-l', "
        "'sample_data/labels.csv', '-s', '-f', 'json']; from xentcli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('xentcli.cli.compare', "
        "'xentcli.cli.calibrate', 'xentcli.cli.explain', 'xentcli.cli.softmax', "
        "'xentcli.core.calibration', 'pydantic', 'rich', 'matplotlib')))\n"
        "print(','.join(bad), file=sys.stderr)"
    )
    out = python(code)
    assert '"loss": 0.96867' in out.stdout
    assert out.stderr.strip() == ""


@pytest.mark.parametrize(
    "argv", [["loss", "sample_data/logits.csv", "-s"], ["loss", "no-such-file.csv"]]
)
def test_main_leaves_its_objects_out_of_the_last_collections(argv: list[str]) -> None:
    # Start-up time (issue 5): the interpreter's full collections at exit cost ~13 ms of
    # a 10-row run; main() has atexit freeze what is alive, on success and on error. A
    # callback registered before main() runs after main()'s (atexit is last in, first
    # out), and sees the objects frozen.
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print(gc.get_freeze_count() > 1000, file=sys.stderr))\n"
        f"sys.argv = ['xent', *{argv!r}]\n"
        "from xentcli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    assert python(code, check=False).stderr.splitlines()[-1] == "True"


def test_an_in_process_caller_s_garbage_stays_collectable_after_main() -> None:
    # (A review: freezing inside main() made a caller's cycles uncollectable for good.)
    code = (
        "import gc, sys, weakref\n"
        "class Cycle:\n    pass\n"
        "sys.argv = ['xent', '--version']\n"
        "from xentcli.cli import main\n"
        "c = Cycle(); c.me = c; ref = weakref.ref(c); del c\n"
        "main()\n"
        "gc.collect()\n"
        "print(ref() is None, gc.get_freeze_count())\n"
    )
    assert python(code).stdout.splitlines()[-1] == "True 0"
