"""Property tests: damaged spec files and CSV files through the command line.

``deltaprop explain SPEC`` and ``train`` / ``predict`` / ``evaluate`` on a CSV either succeed
(exit 0) or answer with one line, ``Error: …``, and exit code 2 — never a traceback, never another
code (a training run that diverges exits 1 with one line, and is allowed here too). Hypothesis
changes characters, truncates, and replaces values (spec keys, CSV cells) with values of every
type and magnitude.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import modelfile_mutations as mm
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deltaprop.cli import build_cli

EXAMPLES = Path(__file__).parents[1] / "examples"
SPECS = {
    p.name: p.read_text() for p in sorted(EXAMPLES.glob("*.toml")) + sorted(EXAMPLES.glob("*.json"))
}
PARSED = {k: (json.loads(v) if k.endswith(".json") else tomllib.loads(v)) for k, v in SPECS.items()}
CLI = build_cli()
cases = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
text_edits = st.lists(
    st.tuples(
        st.integers(0, 1 << 16),
        st.sampled_from(
            ["", "x", "[", "]", "{", '"', "=", ",", "1e999", "\x00", "\n", "-", "9" * 30]
        ),
    ),
    min_size=1,
    max_size=4,
)
values = st.sampled_from(mm.WEIRD_VALUES) | st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


def invoke(tmp_path, *args):
    result = CliRunner().invoke(CLI, [str(a) for a in args], prog_name="deltaprop")
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        lines = result.stderr.splitlines()
        assert result.exit_code in (1, 2) and len(lines) == 1, result.stderr
        assert lines[0].startswith("Error: ")
        if result.exit_code == 1:
            assert "training diverged" in lines[0]
    return result


def _edit(text: str, edits) -> str:
    for position, insert in edits:
        i = position % (len(text) + 1)
        text = text[:i] + insert + text[i + 1 :]
    return text


# --- spec files ---------------------------------------------------------------------------------


@cases
@given(name=st.sampled_from(sorted(SPECS)), edits=text_edits)
def test_spec_text_edits(tmp_path, name, edits):
    path = tmp_path / name
    path.write_text(_edit(SPECS[name], edits), encoding="utf-8")
    invoke(tmp_path, "explain", path, "--format", "json")


def _spec_paths(spec, prefix=()):
    out = []
    items = spec.items() if isinstance(spec, dict) else enumerate(spec)
    for k, v in items:
        out.append((*prefix, k))
        if isinstance(v, dict | list):
            out += _spec_paths(v, (*prefix, k))
    return out


@cases
@given(name=st.sampled_from(sorted(SPECS)), where=st.integers(0, 1000), value=values)
def test_spec_values_of_every_type_and_magnitude(tmp_path, name, where, value):
    spec = json.loads(json.dumps(PARSED[name]))
    paths = _spec_paths(spec)
    *parents, last = paths[where % len(paths)]
    node = spec
    for k in parents:
        node = node[k]
    node[last] = value
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    invoke(tmp_path, "explain", path, "--format", "json")


PLACES = [("learning_rate",), ("weights", 0, 0, 0), ("input", 0), ("target", 0), ("layers", 1)]


@pytest.mark.parametrize("place", PLACES, ids=str)
def test_spec_weird_values_at_every_kind_of_place(tmp_path, place):
    """Every value of the catalogue (ints of 400 digits, ±inf, NaN, lists, tables, …) in a number's
    place of seed001.toml."""
    for value in mm.WEIRD_VALUES:
        spec = json.loads(json.dumps(PARSED["seed001.toml"]))
        *parents, last = place
        node = spec
        for k in parents:
            node = node[k]
        node[last] = value
        path = tmp_path / "spec.json"
        path.write_text(json.dumps(spec), encoding="utf-8")
        invoke(tmp_path, "explain", path, "--format", "json")


# --- CSV files ----------------------------------------------------------------------------------

CSV_HEADER = ["f1", "label", "f2"]
CSV_ROWS = [[f"{i * 0.37 - 3:.3f}", "ab"[i % 2], f"{(i * 7) % 5 - 2:.1f}"] for i in range(12)]
cells = st.sampled_from(
    [
        "",
        " ",
        "nan",
        "inf",
        "-inf",
        "1e400",
        "-1e-400",
        "1e308",
        "0x10",
        "1_000",
        "٣",
        "\x00",
        "a,b",
        '"',
        "NA",
        "1" * 400,
    ]
) | st.text(max_size=6)


def _csv(header, rows) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


@pytest.fixture(scope="module")
def csv_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("csv")
    (d / "good.csv").write_text(_csv(CSV_HEADER, CSV_ROWS))
    result = CliRunner().invoke(
        CLI,
        [
            "train",
            str(d / "good.csv"),
            "--target",
            "label",
            "--epochs",
            "2",
            "--hidden",
            "3",
            "-o",
            str(d / "m.deltaprop"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    return d / "m.deltaprop"


@cases
@given(
    changes=st.lists(
        st.tuples(st.integers(0, 12), st.integers(0, 2), cells), min_size=1, max_size=3
    ),
    edits=st.none() | text_edits,
)
def test_csv_cells_and_bytes(tmp_path, csv_model, changes, edits):
    header, rows = list(CSV_HEADER), [list(r) for r in CSV_ROWS]
    for row, column, cell in changes:
        (header if row == 0 else rows[row - 1])[column] = cell
    text = _csv(header, rows)
    if edits is not None:
        text = _edit(text, edits)
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    out = tmp_path / "out.deltaprop"
    invoke(
        tmp_path,
        "train",
        path,
        "--target",
        "label",
        "--epochs",
        1,
        "--hidden",
        3,
        "--validation",
        0,
        "-o",
        out,
        "--overwrite",
        "-q",
    )
    invoke(tmp_path, "predict", csv_model, path)
    invoke(tmp_path, "evaluate", csv_model, path)


@cases
@given(data=st.binary(max_size=300))
def test_csv_of_arbitrary_bytes(tmp_path, csv_model, data):
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    invoke(
        tmp_path,
        "train",
        path,
        "--epochs",
        1,
        "--hidden",
        2,
        "-o",
        tmp_path / "o",
        "--overwrite",
        "-q",
    )
    invoke(tmp_path, "predict", csv_model, path)
