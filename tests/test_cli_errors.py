"""``xent loss`` failures: one ``Error:`` line on stderr, nothing on stdout, a documented code.

Exit codes (``xentcli.errors.ExitCode``): 2 usage, 65 bad data, 66 input missing,
73 output cannot be created, 74 I/O error while writing.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from xentcli.errors import ExitCode

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
LOGITS = SAMPLE / "logits.csv"
LABELS = [int(t) for t in (SAMPLE / "labels.csv").read_text().split()[1:]]
Run = Callable[..., Result]


def npy(array: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def labels_with(line: int, token: str) -> str:
    """``labels.csv`` of the sample data with physical ``line`` (1 is the header) replaced."""
    lines = ["label", *map(str, LABELS)]
    lines[line - 1] = token
    return "\n".join(lines) + "\n"


def assert_one_error_line(result: Result, code: int, fragment: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert result.stderr.endswith("\n")
    assert result.stderr.count("\n") == 1, result.stderr
    assert fragment in result.stderr, result.stderr


def two_array_npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, a=np.zeros((3, 3)), b=np.ones((3, 3)))
    return buf.getvalue()


THREE_BY_THREE = "0,1,2\n1,2,0\n2,0,1\n"
NPY_TRUNCATED = (SAMPLE / "logits.npy").read_bytes()[:-100]
TWO_ARRAY_NPZ = two_array_npz()


# (id, files to create in the working directory, arguments ({S} is sample_data/),
#  exit code, a fragment of the message)
def npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
NAMED_LABELS_TYPO_FIRST = "\n".join(["zebra", *(NAMES[y] for y in LABELS[1:])]) + "\n"

CASES: list[tuple[str, dict[str, str | bytes], list[str], int, str]] = [
    (
        "empty_npy_logits",
        {"x.npy": npy(np.zeros((0, 3))), "y.npy": npy(np.zeros(0, dtype=np.int64))},
        ["x.npy", "-l", "y.npy"],
        65,
        "x.npy: the input has no samples (0 rows)",
    ),
    (
        "misspelt_class_name_on_the_first_line_is_not_a_header",
        {"labels.txt": NAMED_LABELS_TYPO_FIRST},
        ["{S}/logits.csv", "-l", "labels.txt"],
        65,
        "labels.txt line 1: unknown class name 'zebra'",
    ),
    (
        "npz_labels_array_is_named",
        {"d.npz": npz(logits=np.zeros((2, 3)), labels=np.array([0, 7]))},
        ["d.npz"],
        65,
        "d.npz labels row 1: label 7 is out of range for 3 classes",
    ),
    (
        "row_counts_differ",
        {"labels.csv": "3\n1\n4\n"},
        ["{S}/logits.csv", "-l", "labels.csv"],
        65,
        "labels.csv: logits have 20 samples but labels have 3",
    ),
    (
        "label_out_of_range",
        {"labels.csv": labels_with(5, "10")},
        ["{S}/logits.csv", "-l", "labels.csv"],
        65,
        "labels.csv line 5: label 10 is out of range for 10 classes (valid: 0..9)",
    ),
    (
        "label_out_of_range_in_label_column",
        {"data.csv": "a,b,label\n0.5,1.5,1\n2.5,0.5,2\n"},
        ["data.csv", "--label-col", "label"],
        65,
        "data.csv line 3: label 2 is out of range for 2 classes (valid: 0..1)",
    ),
    (
        "negative_label",
        {"labels.csv": labels_with(3, "-1")},
        ["{S}/logits.csv", "-l", "labels.csv"],
        65,
        "labels.csv line 3: label -1 is negative (valid: 0..9)",
    ),
    (
        "non_integer_label",
        {"labels.csv": labels_with(4, "2.5")},
        ["{S}/logits.csv", "-l", "labels.csv"],
        65,
        "labels.csv line 4: label '2.5' is not a whole number; labels are class indices",
    ),
    (
        "non_integer_label_scientific",
        {"labels.csv": "0\n2.5e0\n1\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "labels.csv line 2: label '2.5e0' is not a whole number",  # as written
    ),
    (
        "non_integer_label_npy",
        {"labels.npy": npy(np.array([0.0, 2.5, 1.0]))},
        ["logits.csv", "-l", "labels.npy"],
        65,
        "labels.npy row 1: label 2.5 is not a whole number",
    ),
    (
        "unknown_class_name",
        {"labels.csv": labels_with(3, "zebra")},
        ["{S}/logits.csv", "-l", "labels.csv"],
        65,
        "labels.csv line 3: unknown class name 'zebra' (classes: airplane, automobile,",
    ),
    (
        "class_name_without_class_names",
        {"labels.csv": "1\ncat\n2\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "labels.csv line 2: label 'cat' is not a class index, and the classes have no names",
    ),
    (
        "ragged_row",
        {"logits.csv": "0,1,2\n1,2\n2,0,1\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv line 2: expected 3 fields (as on line 1), found 2",
    ),
    (
        "non_numeric_token",
        {"logits.csv": "0,1,2\n1,2,0\n2,x1,1\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv line 3, column 2: 'x1' is not a number",
    ),
    (
        "decimal_comma",
        {"logits.csv": '0,1,2\n1,"2,5",0\n2,0,1\n'},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv line 2, column 2: '2,5' is not a number (decimal commas are not read",
    ),
    (
        "overflowing_number",
        {"logits.csv": "0,1,2\n1,2,0\n2,0,1e999\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv line 3, column 3: '1e999' overflows float64",
    ),
    (
        "unterminated_quote",
        {"logits.csv": '0,1,2\n1,"2,0\n2,0,1\n'},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv line 2: unterminated quoted field",
    ),
    (
        "empty_file",
        {"logits.csv": ""},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv: the input is empty (no rows)",
    ),
    (
        "blank_lines_only",
        {"logits.csv": "\n  \r\n\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv: the input is empty (no rows)",
    ),
    (
        "header_only",
        {"logits.csv": "a,b,c\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv: the input has a header row but no data rows",
    ),
    (
        "empty_labels",
        {"labels.csv": ""},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "labels.csv: the labels input is empty",
    ),
    (
        "nan_logit",
        {"logits.csv": "0,1,2\n1,2,0\n2,nan,1\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv line 3: NaN logit",
    ),
    (
        "nan_logit_after_blank_line_and_header",
        {"logits.csv": "a,b,c\n\n0,1,2\n1,NaN,0\n2,0,1\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv line 4: NaN logit",
    ),
    (
        "plus_inf_logit",
        {"logits.csv": "0,1,2\n1,inf,0\n2,0,1\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv line 2: +inf logit",
    ),
    (
        "all_neg_inf_row",
        {"logits.csv": "0,1,2\n-inf,-inf,-inf\n2,0,1\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv line 2: every logit is -inf",
    ),
    (
        "one_class",
        {"logits.csv": "0\n1\n2\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "labels.csv line 3: label 2 is out of range for 2 classes (valid: 0..1); one column "
        "of scores is read as a binary problem (the score of class 1)",
    ),
    (
        "npy_1d",
        {"logits.npy": npy(np.zeros(3))},
        ["logits.npy", "-l", "labels.csv"],
        65,
        "labels.csv line 3: label 2 is out of range for 2 classes (valid: 0..1); one column "
        "of scores is read as a binary problem",
    ),
    (
        "npy_3d",
        {"logits.npy": npy(np.zeros((3, 2, 2)))},
        ["logits.npy", "-l", "labels.csv"],
        65,
        "logits.npy: the input has shape (3, 2, 2): with more than 2 dimensions, say which "
        "axis holds the classes: --class-axis 1",
    ),
    (
        "npy_object",
        {"logits.npy": npy(np.array([[1, "a"]], dtype=object), allow_pickle=True)},
        ["logits.npy", "-l", "labels.csv"],
        65,
        "logits.npy: the array has dtype object (pickled Python objects); xent never unpickles",
    ),
    (
        "npy_strings",
        {"logits.npy": npy(np.array([["1", "2"]]))},
        ["logits.npy", "-l", "labels.csv"],
        65,
        "logits.npy: the array has dtype <U1; expected real numbers",
    ),
    (
        "npy_truncated",
        {"logits.npy": NPY_TRUNCATED},
        ["logits.npy", "-l", "{S}/labels.csv"],
        65,
        "logits.npy: the file is truncated: header says shape (20, 10) (1600 bytes of data)",
    ),
    (
        "npy_header_truncated",
        {"logits.npy": NPY_TRUNCATED[:20]},
        ["logits.npy", "-l", "{S}/labels.csv"],
        65,
        "logits.npy: not a valid .npy file",
    ),
    (
        "npz_not_a_zip",
        {"logits.npz": b"PK\x03\x04 not really a zip"},
        ["logits.npz", "-l", "labels.csv"],
        65,
        "logits.npz: not a valid .npz archive",
    ),
    (
        "npz_ambiguous",
        {"logits.npz": TWO_ARRAY_NPZ},
        ["logits.npz", "-l", "labels.csv"],
        65,
        "logits.npz: no array named 'logits' and 2 other arrays (a, b): choose one with --key",
    ),
    (
        "utf16_text",
        {"logits.csv": THREE_BY_THREE.encode("utf-16")},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv: the file is UTF-16 text; xent reads UTF-8",
    ),
    (
        "invalid_utf8",
        {"logits.csv": b"0,1,2\n1,2,0\n2,\xff,1\n"},
        ["logits.csv", "-l", "labels.csv"],
        65,
        "logits.csv line 3: invalid UTF-8 byte 0xff",
    ),
    (
        "missing_input",
        {},
        ["missing.csv", "-l", "labels.csv"],
        66,
        "missing.csv: no such file",
    ),
    (
        "missing_labels",
        {},
        ["logits.csv", "-l", "missing.csv"],
        66,
        "missing.csv: no such file",
    ),
    (
        "input_is_a_directory",
        {"dir/keep": ""},
        ["dir", "-l", "labels.csv"],
        66,
        "dir: is a directory, not a file",
    ),
    (
        "output_directory_missing",
        {},
        ["logits.csv", "-l", "labels.csv", "-o", "nowhere/out.json"],
        73,
        "nowhere/out.json: cannot create: No such file or directory",
    ),
    (
        "output_parent_is_a_file",
        {"afile": ""},
        ["logits.csv", "-l", "labels.csv", "-o", "afile/out.json"],
        73,
        "afile/out.json: cannot create: Not a directory",
    ),
    (
        "output_is_a_directory",
        {"outdir/keep": ""},
        ["logits.csv", "-l", "labels.csv", "-o", "outdir"],
        73,
        "outdir: cannot open for writing: Is a directory",
    ),
    (
        "both_from_stdin",
        {},
        ["-", "-l", "-"],
        2,
        "logits and labels cannot both come from standard input",
    ),
    (
        "no_labels",
        {},
        ["logits.csv"],
        2,
        "no labels: give -l/--labels FILE, --label-col COLUMN, or an .npz with a 'labels' array",
    ),
    (
        "labels_and_label_col",
        {},
        ["logits.csv", "-l", "labels.csv", "--label-col", "0"],
        2,
        "give labels either with -l/--labels or with --label-col, not both",
    ),
    (
        "bad_delimiter_two_chars",
        {},
        ["logits.csv", "-l", "labels.csv", "--delimiter", "ab"],
        2,
        "--delimiter 'ab' is not usable",
    ),
    (
        "bad_delimiter_digit",
        {},
        ["logits.csv", "-l", "labels.csv", "-d", "1"],
        2,
        "--delimiter '1' is not usable",
    ),
    (
        "delimiter_on_npy",
        {"logits.npy": npy(np.zeros((3, 3)))},
        ["logits.npy", "-l", "labels.csv", "-d", ";"],
        2,
        "--delimiter applies to text input, but logits.npy is npy",
    ),
    (
        "header_on_npy",
        {"logits.npy": npy(np.zeros((3, 3)))},
        ["logits.npy", "-l", "labels.csv", "--no-header"],
        2,
        "--header/--no-header applies to text input, but logits.npy is npy",
    ),
    (
        "key_on_csv",
        {},
        ["logits.csv", "-l", "labels.csv", "--key", "scores"],
        2,
        "--key applies to .npz input, but logits.csv is csv",
    ),
    (
        "key_not_in_npz",
        {"logits.npz": TWO_ARRAY_NPZ},
        ["logits.npz", "-l", "labels.csv", "--key", "scores"],
        2,
        "--key 'scores': logits.npz has no such array (arrays: a, b)",
    ),
    (
        "label_col_out_of_range",
        {},
        ["logits.csv", "--label-col", "3"],
        2,
        "--label-col 3 is out of range: logits.csv has 3 columns (0..2, or -1 for the last)",
    ),
    (
        "label_col_negative_out_of_range",
        {},
        ["logits.csv", "--label-col", "-4"],
        2,
        "--label-col -4 is out of range: logits.csv has 3 columns",
    ),
    (
        "label_col_unknown_name",
        {},
        ["{S}/logits_with_labels.csv", "--label-col", "klass"],
        2,
        "--label-col 'klass': no such column in ",
    ),
    (
        "label_col_name_without_header",
        {},
        ["logits.csv", "--label-col", "label"],
        2,
        "--label-col 'label': logits.csv has no header row, so give a 0-based column index",
    ),
    (
        "classes_wrong_count",
        {},
        ["logits.csv", "-l", "labels.csv", "--classes", "a,b"],
        2,
        "--classes names 2 classes but the logits have 3",
    ),
    (
        "classes_repeated",
        {},
        ["logits.csv", "-l", "labels.csv", "--classes", "a,b,a"],
        2,
        "--classes has repeated names",
    ),
    (
        "classes_empty_name",
        {},
        ["logits.csv", "-l", "labels.csv", "--classes", "a,,c"],
        2,
        "--classes 'a,,c' has an empty name",
    ),
    (
        "classes_not_in_header",
        {},
        ["{S}/logits.csv", "-l", "{S}/labels.csv", "--classes", "a,b,c,d,e,f,g,h,i,j"],
        2,
        "--classes names 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', not in the header",
    ),
]

if os.path.exists("/dev/full"):
    CASES.append(
        (
            "output_device_full",
            {},
            ["logits.csv", "-l", "labels.csv", "-o", "/dev/full"],
            74,
            "/dev/full: write failed: No space left on device",
        )
    )


@pytest.mark.parametrize(
    ("files", "args", "code", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_error(
    run_xent: Run,
    in_tmp_path: Path,
    files: dict[str, str | bytes],
    args: list[str],
    code: int,
    fragment: str,
) -> None:
    # Defaults that the case's own files override: 3 samples of 3 classes, valid labels.
    contents: dict[str, str | bytes] = {"logits.csv": THREE_BY_THREE, "labels.csv": "0\n1\n2\n"}
    contents.update(files)
    for name, data in contents.items():
        path = in_tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    before = sorted(p.relative_to(in_tmp_path) for p in in_tmp_path.rglob("*"))

    result = run_xent("loss", *(a.format(S=SAMPLE) for a in args), input="0,1\n")

    assert_one_error_line(result, code, fragment)
    assert int(ExitCode(code)) == code
    # A failed run creates nothing: no output file, no temporary .part file.
    assert sorted(p.relative_to(in_tmp_path) for p in in_tmp_path.rglob("*")) == before


# --- Pickles are never loaded ---------------------------------------------------------------


class _Payload:
    """Unpickling this creates (opens for writing) the file at ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.marker), "w")


def _pickled_npy(marker: Path) -> bytes:
    array = np.empty(1, dtype=object)
    array[0] = _Payload(marker)
    return npy(array, allow_pickle=True)


def test_the_pickle_payload_is_armed(tmp_path: Path) -> None:
    """The payload really runs when loaded the unsafe way, so the next test means something."""
    marker = tmp_path / "pwned"
    loaded = np.load(io.BytesIO(_pickled_npy(marker)), allow_pickle=True)
    loaded[0].close()
    assert marker.exists()


@pytest.mark.parametrize("where", ["logits_npy", "labels_npy", "npz_member", "stdin"])
def test_pickled_npy_is_rejected_and_never_unpickled(
    run_xent: Run, in_tmp_path: Path, where: str
) -> None:
    marker = in_tmp_path / "pwned"
    payload = _pickled_npy(marker)
    stdin = None
    if where == "logits_npy":
        (in_tmp_path / "evil.npy").write_bytes(payload)
        args = ["evil.npy", "-l", str(SAMPLE / "labels.csv")]
    elif where == "labels_npy":
        (in_tmp_path / "evil.npy").write_bytes(payload)
        args = [str(SAMPLE / "logits.csv"), "-l", "evil.npy"]
    elif where == "npz_member":
        with zipfile.ZipFile(in_tmp_path / "evil.npz", "w") as zf:
            zf.writestr("logits.npy", payload)
        args = ["evil.npz", "-l", str(SAMPLE / "labels.csv")]
    else:
        stdin = payload
        args = ["-l", str(SAMPLE / "labels.csv")]

    result = run_xent("loss", *args, input=stdin)

    assert_one_error_line(result, 65, "dtype object (pickled Python objects)")
    assert not marker.exists()


# --- No input on a terminal -----------------------------------------------------------------


def test_no_input_on_a_terminal_is_a_usage_error(
    run_xent: Run, fake_tty: Callable[..., None]
) -> None:
    fake_tty(stdin=True)

    result = run_xent("loss", "-l", SAMPLE / "labels.csv")

    assert_one_error_line(result, 2, "no input: give a logits file (xent loss logits.csv")


def test_labels_from_a_terminal_is_a_usage_error(
    run_xent: Run, fake_tty: Callable[..., None]
) -> None:
    fake_tty(stdin=True)

    result = run_xent("loss", SAMPLE / "logits.csv", "-l", "-")

    assert_one_error_line(result, 2, "-l - reads labels from stdin, but stdin is a terminal")


# --- Output files are written atomically ----------------------------------------------------


def test_failed_run_leaves_an_existing_output_file_untouched(
    run_xent: Run, in_tmp_path: Path
) -> None:
    (in_tmp_path / "bad.csv").write_text("0,1\n1,x\n")
    (in_tmp_path / "labels.csv").write_text("0\n1\n")
    (in_tmp_path / "out.json").write_text("precious\n")

    result = run_xent("loss", "bad.csv", "-l", "labels.csv", "-o", "out.json")

    assert_one_error_line(result, 65, "bad.csv line 2, column 2: 'x' is not a number")
    assert (in_tmp_path / "out.json").read_text() == "precious\n"
    assert sorted(os.listdir(in_tmp_path)) == ["bad.csv", "labels.csv", "out.json"]


def test_write_failure_leaves_an_existing_output_file_untouched(
    run_xent: Run, in_tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (in_tmp_path / "out.csv").write_text("precious\n")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("xentcli.io.output.os.fsync", disk_full)
    result = run_xent("loss", SAMPLE / "logits.csv", "-l", SAMPLE / "labels.csv", "-o", "out.csv")

    assert_one_error_line(result, 74, "out.csv: write failed: No space left on device")
    assert (in_tmp_path / "out.csv").read_text() == "precious\n"
    assert os.listdir(in_tmp_path) == ["out.csv"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write anywhere"
)
def test_output_into_a_read_only_directory(run_xent: Run, in_tmp_path: Path) -> None:
    locked = in_tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = run_xent(
            "loss", SAMPLE / "logits.csv", "-l", SAMPLE / "labels.csv", "-o", "locked/out.json"
        )
    finally:
        locked.chmod(0o700)

    assert_one_error_line(result, 73, "locked/out.json: cannot create: Permission denied")
    assert os.listdir(locked) == []


def test_output_directory_refusing_files(
    run_xent: Run, in_tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same as above, simulated, so it also runs as root (which ignores permissions)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)  # output.py imports it when writing
    result = run_xent(
        "loss", SAMPLE / "seed3.csv", "-l", SAMPLE / "seed3_labels.csv", "-o", "o.csv"
    )

    assert_one_error_line(result, 73, "o.csv: cannot create: Permission denied")
    assert os.listdir(in_tmp_path) == []


# --- Option values rejected by the parser ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--head", "-1"], "Invalid value for '--head'"),
        (["--precision", "0"], "Invalid value for '--precision'"),
        (["--precision", "18"], "Invalid value for '--precision'"),
        (["-f", "xml"], "Invalid value for '--format'"),
        (["--input-format", "xlsx"], "Invalid value for '--input-format'"),
        (["--no-such-option"], "No such option: --no-such-option"),
    ],
)
def test_parser_errors_exit_2(run_xent: Run, args: list[str], fragment: str) -> None:
    result = run_xent("loss", SAMPLE / "logits.csv", "-l", SAMPLE / "labels.csv", *args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert fragment in result.stderr
