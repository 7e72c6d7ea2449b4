"""Architecture checks: the core is a library that loads neither Typer nor Rich."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "xentcli"


@pytest.mark.parametrize("module", ["xentcli.core", "xentcli"])
def test_importing_the_library_loads_neither_typer_nor_rich(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click')); "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_version_answers_without_loading_numpy() -> None:
    code = (
        "import sys; sys.argv = ['xent', '--version']; from xentcli.cli import main; "
        "main(); print('numpy' in sys.modules, 'typer' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    version, loaded = out.stdout.splitlines()
    assert version.startswith("xent ")
    assert loaded == "False False"


def test_a_loss_run_loads_only_its_own_command() -> None:
    # Start-up time (issue 5): `xent loss` builds the application with `loss` alone, so
    # the other commands' modules, temperature scaling, Rich (JSON output) and pydantic
    # (Typer 0.29's coercion layer, excluded by the pin in pyproject.toml) stay unloaded.
    root = Path(__file__).resolve().parent.parent
    code = (
        "import sys; sys.argv = ['xent', 'loss', 'sample_data/logits.csv', '-l', "
        "'sample_data/labels.csv', '-s', '-f', 'json']; from xentcli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('xentcli.cli.compare', "
        "'xentcli.cli.calibrate', 'xentcli.cli.explain', 'xentcli.cli.softmax', "
        "'xentcli.core.calibration', 'pydantic', 'rich', 'matplotlib')))\n"
        "print(','.join(bad), file=sys.stderr)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert '"loss": 0.96867' in out.stdout
    assert out.stderr.strip() == ""


@pytest.mark.parametrize(
    "argv", [["loss", "sample_data/logits.csv", "-s"], ["loss", "no-such-file.csv"]]
)
def test_main_leaves_its_objects_out_of_the_last_collections(argv: list[str]) -> None:
    # Start-up time (issue 5): the interpreter's full collections at exit cost ~13 ms of
    # a 10-row run; main() freezes what is alive, on success and on error alike.
    root = Path(__file__).resolve().parent.parent
    code = (
        f"import gc, sys; sys.argv = ['xent', *{argv!r}]; from xentcli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(gc.get_freeze_count() > 1000, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert out.stderr.splitlines()[-1] == "True"
