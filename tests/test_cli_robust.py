"""Issue 13 on the command line: no overwritten models, no tracebacks for crafted model files."""

from __future__ import annotations

import zipfile

import modelfile_mutations as mm
import pytest
from click.testing import CliRunner

import deltaprop as dp
from deltaprop.cli import build_cli
from deltaprop.commands import train


def run(*args):
    return CliRunner().invoke(build_cli(), [str(a) for a in args], prog_name="deltaprop")


def one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # nothing escaped
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    result = run("train", "iris", "--epochs", 2, "--hidden", 4, "-o", d / "iris.deltaprop", "-q")
    assert result.exit_code == 0, result.output
    return d / "iris.deltaprop"


def test_train_refuses_to_replace_a_model_before_training(trained, tmp_path, monkeypatch):
    out = tmp_path / "m.deltaprop"
    out.write_bytes(trained.read_bytes())
    before = out.read_bytes()

    def never(*args, **kwargs):
        raise AssertionError("trained although the output exists")

    monkeypatch.setattr(train, "fit", never)
    line = one_line_error(run("train", "iris", "-o", out), str(out), "--overwrite")
    assert line == f"Error: {out} exists; pass --overwrite to replace it"
    assert out.read_bytes() == before
    monkeypatch.undo()
    result = run("train", "iris", "--epochs", 1, "-o", out, "--overwrite", "-q")
    assert result.exit_code == 0 and out.read_bytes() != before
    assert dp.load(out).history.epochs == 1


def test_train_refuses_a_file_that_appears_while_it_trains(tmp_path, monkeypatch):
    out = tmp_path / "m.deltaprop"
    real_fit = train.fit

    def fit_then_someone_writes(*args, **kwargs):
        history = real_fit(*args, **kwargs)
        out.write_text("another run's model")
        return history

    monkeypatch.setattr(train, "fit", fit_then_someone_writes)
    one_line_error(run("train", "iris", "--epochs", 1, "-o", out), "--overwrite")
    assert out.read_text() == "another run's model"
    assert [p.name for p in tmp_path.iterdir()] == ["m.deltaprop"]


def test_predict_never_writes_over_what_it_reads(trained, tmp_path):
    model_copy = tmp_path / "m.deltaprop"
    model_copy.write_bytes(trained.read_bytes())
    data = tmp_path / "d.csv"
    names = ",".join(dp.load(trained).preprocessing.feature_names)
    data.write_text(f"{names}\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
    for target in (model_copy, data):
        before = target.read_bytes()
        one_line_error(run("predict", model_copy, data, "-o", target), "not replaced")
        assert target.read_bytes() == before
    out = tmp_path / "p.txt"
    out.write_text("old predictions\n" * 10)
    assert run("predict", model_copy, data, "-o", out).exit_code == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and set(lines) <= {"0", "1", "2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "m.deltaprop", "p.txt"]


CRAFTED = {
    "lzma": lambda b: mm.recompress(b, zipfile.ZIP_LZMA),
    "huge-layer": lambda b: mm.claim_huge_layer(b, 2**40),
    "8-TB-member": lambda b: mm.claim_zip64_sizes(b, 1, 8 << 40, 8 << 40),
    "zip-version": lambda b: mm.set_field(b, "central", 0, "version_needed", 0xFFFF),
    "cd-offset": lambda b: mm.set_field(b, "eocd", 0, "cd_offset", 0xFFFFFFFE),
    "rng-pos": lambda b: mm.set_header_value(b, ("rng", "has_uint32"), 2**64),
    "settings": lambda b: mm.set_header_value(
        b, ("optimizer", "hyperparameters", "eps"), -(10**40)
    ),
}


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("craft", sorted(CRAFTED))
def test_crafted_model_files_are_one_line_errors(trained, tmp_path, command, craft):
    bad = tmp_path / "bad.deltaprop"
    bad.write_bytes(CRAFTED[craft](trained.read_bytes()))
    one_line_error(run(command, bad, "iris"), str(bad))
