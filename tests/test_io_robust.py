"""Issue 13: old files keep loading, crafted files are refused by name, leftovers are cleaned up.

The files in tests/data/ were written by deltaprop before these checks existed (format version 1);
their arrays are compared with numpy's own ``.npy`` reader, their header with ``json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import modelfile_mutations as mm
import numpy as np
import pytest

import deltaprop as dp
from deltaprop import _atomic_file
from deltaprop.io import HEADER, ModelFileError, load, save

DATA = Path(__file__).parent / "data"
V1_NAMES = ["classifier", "plain"] + [f"regressor_{g}" for g in ("mt19937", "philox", "sfc64")]
V1_FILES = [DATA / f"v1_{name}.deltaprop" for name in [*V1_NAMES, "regressor_pcg64dxsm"]]


@pytest.fixture(scope="module")
def classifier() -> bytes:
    return mm.model_files()["classifier"]


# --- files written before: every value as numpy and json read it -------------------------------


def test_there_are_old_files_to_test():
    assert sorted(DATA.glob("v1_*.deltaprop")) == sorted(V1_FILES)  # committed (git add -f)


@pytest.mark.parametrize("path", V1_FILES, ids=lambda p: p.stem)
def test_old_files_load_with_every_value(path, tmp_path):
    m = load(path)
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read(HEADER))
        arrays = {
            name: np.load(zf.open(name), allow_pickle=False)
            for name in zf.namelist()
            if name.endswith(".npy")
        }
    for k, p in m.network.params().items():
        assert p.tobytes() == arrays.pop(f"params/{k}.npy").tobytes()
    if m.optimizer_state is not None:
        for slot in m.optimizer.slots:
            for k, a in m.optimizer_state[slot].items():
                assert a.tobytes() == arrays.pop(f"optimizer/{slot}/{k}.npy").tobytes()
        assert m.optimizer_state["step"] == header["optimizer"]["step"] > 0
    if m.preprocessing is not None:
        for k in header["preprocessing"]["arrays"]:
            value = getattr(m.preprocessing, k)
            assert value.tobytes() == arrays.pop(f"preprocessing/{k}.npy").tobytes()
    assert arrays == {}  # every array of the file was compared
    if header["rng"] is not None:
        state = json.loads(json.dumps(m.rng.bit_generator.state, default=np.ndarray.tolist))
        assert state == header["rng"]
    if header["history"] is not None:
        assert m.history.as_dict() == header["history"]
        assert m.schedule.as_dict() == header["schedule"]
    # Written back, the model is the same file, byte for byte.
    assert m.save(tmp_path / "again").read_bytes() == path.read_bytes()


# --- crafted files: refused by name, fast, without allocating what they claim ------------------


CRAFTED = [
    (lambda b: mm.claim_huge_layer(b, 2**40), "claims 52776558133376 bytes at offset"),
    (lambda b: mm.claim_zip64_sizes(b, 1, 8 << 40, 8 << 40), "claims 8796093022208 bytes"),
    (lambda b: mm.claim_zip64_sizes(b, 1, 8 << 40, 100), "is stored but claims 8796093022208"),
    (
        lambda b: mm.claim_zip64_sizes(mm.recompress(b, zipfile.ZIP_DEFLATED), 1, 8 << 40, 100),
        "claims 8796093022208 bytes from 100 deflated ones, more than deflate can expand",
    ),
    (lambda b: mm.recompress(b, zipfile.ZIP_LZMA), "compressed with ZIP method 14"),
    (lambda b: mm.recompress(b, zipfile.ZIP_BZIP2), "compressed with ZIP method 12"),
    (lambda b: mm.set_field(b, "central", 0, "version_needed", 0xFFFF), "ZIP feature"),
    (lambda b: mm.set_field(b, "eocd", 0, "cd_offset", 0xFFFFFFFE), "beyond|not a ZIP"),
    (lambda b: mm.set_field(b, "central", 2, "flags", 1), "params/b1.npy uses encryption"),
    (lambda b: mm.set_header_value(b, ("metadata",), raw=mm.DEEP), "nested too deeply"),
    (lambda b: mm.set_header_value(b, ("metadata",), raw=mm.HUGE_INT), "not valid JSON"),
    (
        lambda b: mm.set_header_value(
            b, ("rng",), {"bit_generator": "MT19937", "state": {"key": [0] * 623, "pos": 0}}
        ),
        "rng.state.key must be a list of 624 words",
    ),
    (lambda b: mm.set_header_value(b, ("rng", "state", "state"), 2**128), "rng.state.state"),
    (lambda b: mm.set_header_value(b, ("rng", "has_uint32"), 2), "rng.has_uint32"),
    (lambda b: mm.set_header_value(b, ("rng", "bit_generator"), []), "unknown bit generator"),
    (lambda b: mm.set_header_value(b, ("optimizer", "step"), -1), "optimizer step"),
    (lambda b: mm.set_header_value(b, ("optimizer", "step"), 2**64), "optimizer step"),
    (
        lambda b: mm.set_header_value(b, ("optimizer", "hyperparameters", "eps"), 10**40),
        "optimizer setting 'eps' must be a number",
    ),
    (
        lambda b: mm.set_header_value(b, ("optimizer", "hyperparameters", "eps"), "e" * 500),
        "optimizer setting 'eps' is a string of 500 characters",
    ),
    (
        lambda b: mm.set_header_value(b, ("schedule", "state", "best"), 10**400),
        "schedule state 'best'",
    ),
    (lambda b: mm.set_header_value(b, ("history", "loss"), [10**400]), "history 'loss'"),
    (lambda b: mm.set_header_value(b, ("history", "layer_grad_norms"), [1.0]), "one list"),
    (lambda b: mm.set_header_value(b, ("history", "updates"), -5), "history 'updates'"),
    (lambda b: mm.set_header_value(b, ("layers", 0, "units"), 2**41), "layer 1 units"),
    (lambda b: mm.set_header_value(b, ("preprocessing", "classes"), [1, 2, 10**30]), "64 bits"),
    (lambda b: mm.set_header_value(b, ("preprocessing", "classes"), ["a"]), "1 classes for 3"),
    (lambda b: mm.set_header_value(b, ("preprocessing", "target_name"), 3), "target_name"),
    (lambda b: mm.set_header_value(b, ("dtype",), ["float64"]), "'dtype' must be a str"),
]


@pytest.mark.parametrize(("craft", "message"), CRAFTED, ids=[m for _, m in CRAFTED])
def test_crafted_files_are_refused_by_name_fast_and_small(classifier, tmp_path, craft, message):
    path = tmp_path / "m.deltaprop"
    path.write_bytes(craft(classifier))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ModelFileError, match=message) as info:
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0
    assert peak < 8 << 20  # what they claim runs to terabytes; 8 MiB for a 7 kB file
    assert info.value.__cause__ is None  # a named check refused it, not the safety net
    assert str(info.value).startswith(f"{path}: ")


def test_a_huge_layer_without_a_size_claim_is_refused_before_allocation(tmp_path):
    data = dp.save(tmp_path / "plain", dp.Network.from_sizes([3, 2], "sigmoid")).read_bytes()
    (tmp_path / "m").write_bytes(mm.claim_huge_layer(data, 2**40, claim=False))
    with pytest.raises(ModelFileError, match=r"params/W1.npy has \d+ bytes; expected"):
        load(tmp_path / "m")


def test_deflated_members_load_to_the_same_model(classifier, tmp_path):
    (tmp_path / "a").write_bytes(classifier)
    (tmp_path / "b").write_bytes(mm.recompress(classifier, zipfile.ZIP_DEFLATED))
    a, b = load(tmp_path / "a"), load(tmp_path / "b")
    assert a.network.flat_params().tobytes() == b.network.flat_params().tobytes()
    assert a.rng.bit_generator.state == b.rng.bit_generator.state


def test_a_flipped_byte_in_a_deflated_member_is_a_model_file_error(classifier, tmp_path):
    data = mm.recompress(classifier, zipfile.ZIP_DEFLATED)
    refused = 0
    for position in range(0, 400, 7):
        (tmp_path / "m").write_bytes(mm.flip_in_member(data, 1, position, 0x55))
        try:
            load(tmp_path / "m")
        except ModelFileError as exc:
            assert exc.__cause__ is None
            refused += 1
    assert refused > 40  # CRC or zlib catch nearly every one


def test_the_last_resort_keeps_the_cause_and_lets_memory_errors_through(small, monkeypatch):
    def broken(archive):
        raise ArithmeticError("a failure no check foresaw")

    monkeypatch.setattr(dp.io, "read", broken)
    with pytest.raises(ModelFileError, match="damaged or invalid .ArithmeticError") as info:
        load(small)
    assert isinstance(info.value.__cause__, ArithmeticError)

    def out_of_memory(archive):
        raise MemoryError

    monkeypatch.setattr(dp.io, "read", out_of_memory)
    with pytest.raises(MemoryError):
        load(small)


@pytest.fixture
def small(tmp_path) -> Path:
    return save(tmp_path / "small.deltaprop", dp.Network.from_sizes([3, 4, 2], "tanh", seed=0))


def test_a_directory_or_an_unreadable_file_is_an_os_error(tmp_path):
    with pytest.raises(IsADirectoryError):
        load(tmp_path)


# --- overwrite=False ----------------------------------------------------------------------------


def test_save_without_overwrite_leaves_an_existing_file(small, tmp_path):
    before = small.read_bytes()
    with pytest.raises(FileExistsError, match="not replaced"):
        save(small, dp.Network.from_sizes([3, 2], "sigmoid"), overwrite=False)
    assert small.read_bytes() == before
    fresh = save(tmp_path / "new", dp.Network.from_sizes([3, 2], "sigmoid"), overwrite=False)
    assert load(fresh).network.sizes == [3, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "small.deltaprop"]


def test_save_without_overwrite_loses_a_race_safely(tmp_path, monkeypatch):
    """A file created under the name while the model was being written is not replaced."""
    path = tmp_path / "m"
    real = dp.io._write_zip

    def someone_else_saves_first(fh, header, arrays):
        path.write_bytes(b"theirs")
        real(fh, header, arrays)

    monkeypatch.setattr(dp.io, "_write_zip", someone_else_saves_first)
    with pytest.raises(FileExistsError):
        save(path, dp.Network.from_sizes([3, 2], "sigmoid"), overwrite=False)
    assert path.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary file left


# --- temporary files of killed saves ------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _leftover(folder: Path, name: str, host: str, pid: int, age: float = 0.0) -> Path:
    p = folder / f".{name}.saving-{host}-{pid}-{os.urandom(6).hex()}.tmp"
    p.write_bytes(b"PK\x03\x04 half a model")
    os.utime(p, (time.time() - age, time.time() - age))
    return p


def test_a_temporary_file_says_what_it_is(tmp_path, monkeypatch):
    seen = []
    real = dp.io._write_zip

    def look(fh, header, arrays):
        seen.extend(p.name for p in tmp_path.iterdir())
        real(fh, header, arrays)

    monkeypatch.setattr(dp.io, "_write_zip", look)
    save(tmp_path / "m.deltaprop", dp.Network.from_sizes([3, 2], "sigmoid"))
    host, pid = _atomic_file.host_tag(), os.getpid()
    assert len(seen) == 1
    assert seen[0].startswith(f".m.deltaprop.saving-{host}-{pid}-") and seen[0].endswith(".tmp")
    assert not Path(seen[0]).match("*.deltaprop")  # no glob for models finds it


def test_the_next_save_removes_stale_leftovers_only(tmp_path):
    """Removed: a dead writer's file on this host; any file untouched for an hour (another host,
    a reused pid); an old-style unnamed one an hour old. Kept: live writers' files, recent files
    of other hosts, and every file that belongs to another name."""
    here, live = _atomic_file.host_tag(), os.getppid()
    old = _atomic_file.STALE_SECONDS + 60
    removed = [
        _leftover(tmp_path, "m", here, _dead_pid()),
        _leftover(tmp_path, "m", here, live, age=old),
        _leftover(tmp_path, "m", "otherhost", 123, age=old),
    ]
    legacy = tmp_path / ".m.0123456789ab.tmp"
    legacy.write_bytes(b"PK")
    os.utime(legacy, (time.time() - old, time.time() - old))
    removed.append(legacy)
    kept = [
        _leftover(tmp_path, "m", here, live),
        _leftover(tmp_path, "m", "otherhost", _dead_pid()),
        _leftover(tmp_path, "other", here, _dead_pid()),
        tmp_path / ".m.notes.tmp",
        tmp_path / ".m.abcdef012345.tmp",  # old-style but recent
    ]
    kept[-2].write_text("mine")
    kept[-1].write_text("PK")
    for p in removed + kept:
        with pytest.raises(ModelFileError):  # never mistaken for a model
            load(p)
    save(tmp_path / "m", dp.Network.from_sizes([3, 2], "sigmoid"))
    assert [p.name for p in removed if p.exists()] == []
    assert all(p.exists() for p in kept)
    assert load(tmp_path / "m").network.sizes == [3, 2]


# --- module structure ---------------------------------------------------------------------------


def test_the_reader_does_not_import_io_and_the_public_names_stay():
    """The reader, the checks and the shared pieces are below io.py: no import circle."""
    import ast
    import pickle

    import deltaprop.io as dio

    src = Path(dp.__file__).parent
    for module in ("_io_read", "_modelfile", "_modelfile_zip", "_modelfile_header", "_atomic_file"):
        tree = ast.parse((src / f"{module}.py").read_text(encoding="utf-8"))
        imported = set()
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom) and n.level:  # from .x import y, from . import x
                imported |= {n.module} if n.module else {a.name for a in n.names}
        assert "io" not in imported, module
    for name in ("save", "load", "SavedModel", "ModelFileError", "Preprocessing", "HEADER"):
        assert hasattr(dio, name)
    pre = dio.Preprocessing("regression", y_mean=np.array([1.0]), y_scale=np.array([2.0]))
    assert b"deltaprop.io" in pickle.dumps(pre) and b"_modelfile" not in pickle.dumps(pre)
    assert issubclass(dio.ModelFileError, ValueError)
