"""Property tests: no damaged model file makes ``load`` raise anything but ``ModelFileError``.

Hypothesis mutates two rich valid files (every header section filled; PCG64 and MT19937 states;
a classifier and a regressor): bytes, truncations, ZIP fields, ZIP64 size claims, compression
methods, and header values of every JSON type and magnitude. Each load either gives a model that
predicts (the right shape, without raising) or a ``ModelFileError`` that a named check raised (no
``__cause__``: the last-resort translation in ``load`` is not what passes these tests), within
2 s and 16 MiB of Python allocations (tracemalloc's peak) — whatever sizes the file claims.
"""

from __future__ import annotations

import json
import time
import tracemalloc
import zipfile

import modelfile_mutations as mm
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deltaprop as dp
from deltaprop.io import ModelFileError

BASES = mm.model_files()
HEADERS = {k: json.loads(mm.members(v)[mm.HEADER]) for k, v in BASES.items()}
PATHS = {k: mm.header_paths(h) for k, h in HEADERS.items()}
MAX_SECONDS = 2.0
MAX_PEAK = 16 << 20

bases = st.sampled_from(sorted(BASES))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**300), max_value=2**300)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
weird = st.sampled_from(mm.WEIRD_VALUES) | json_values
cases = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check(tmp_path, data: bytes) -> str:
    path = tmp_path / "m.deltaprop"
    path.write_bytes(data)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        model = dp.load(path)
        outcome = "loaded"
    except ModelFileError as exc:
        assert exc.__cause__ is None, f"only the safety net caught: {exc!r}"
        assert str(exc).startswith(f"{path}: ") or str(exc).startswith(f"{path} ")
        outcome = "refused"
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - started < MAX_SECONDS
    assert peak < MAX_PEAK, f"{peak} bytes allocated for a {len(data)}-byte file"
    if outcome == "loaded":
        x = np.zeros((3, model.network.sizes[0]))
        with np.errstate(all="ignore"):
            y = model.predict(x)
        assert len(y) == 3
    return outcome


@cases
@given(
    base=bases,
    flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_flipped_bytes(tmp_path, base, flips):
    data = BASES[base]
    for position, value in flips:
        data = mm.flip(data, position, value)
    _check(tmp_path, data)


@cases
@given(base=bases, length=st.integers(0, 1 << 20))
def test_truncations(tmp_path, base, length):
    data = BASES[base]
    assert _check(tmp_path, mm.truncate(data, length)) == (
        "loaded" if length % (len(data) + 1) == len(data) else "refused"
    )


@st.composite
def zip_fields(draw):
    record = draw(st.sampled_from(["local", "central", "eocd"]))
    table = {"local": mm.LOCAL, "central": mm.CENTRAL, "eocd": mm.EOCD}[record]
    field = draw(st.sampled_from(sorted(table)))
    bits = 16 if table[field][1] == "<H" else 32
    value = draw(st.sampled_from(mm.SPECIAL[table[field][1]]) | st.integers(0, (1 << bits) - 1))
    return record, draw(st.integers(0, 40)), field, value


@cases
@given(base=bases, change=zip_fields())
def test_zip_fields(tmp_path, base, change):
    _check(tmp_path, mm.set_field(BASES[base], *change))


SIZES = st.sampled_from([0, 1, 100, 3 << 30, 8 << 40, 1 << 62, (1 << 64) - 1]) | st.integers(
    0, (1 << 64) - 1
)


@cases
@given(base=bases, index=st.integers(0, 40), size=SIZES, compressed=SIZES)
def test_zip64_size_claims(tmp_path, base, index, size, compressed):
    _check(tmp_path, mm.claim_zip64_sizes(BASES[base], index, size, compressed))


@cases
@given(base=bases, inputs=st.integers(1, 2**40), claim=st.booleans())
def test_crafted_huge_layers(tmp_path, base, inputs, claim):
    data = mm.claim_huge_layer(BASES[base], inputs, claim)
    assert _check(tmp_path, data) == "refused"


@cases
@given(
    base=bases,
    method=st.sampled_from(mm.METHODS),
    flip=st.none() | st.tuples(st.integers(0, 40), st.integers(0, 1 << 16), st.integers(0, 255)),
)
def test_compression_methods(tmp_path, base, method, flip):
    data = mm.recompress(BASES[base], method)
    if flip is not None:
        data = mm.flip_in_member(data, *flip)
    outcome = _check(tmp_path, data)
    if flip is None:  # undamaged: stored and deflated load, bzip2 and lzma are refused unread
        ok = method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        assert outcome == ("loaded" if ok else "refused")


SECTIONS = ["rng", "optimizer", "schedule", "history", "layers", "preprocessing", "top"]


def _paths(base: str, section: str) -> list[tuple]:
    if section == "top":
        return [p for p in PATHS[base] if p[0] not in SECTIONS]
    return [p for p in PATHS[base] if p[0] == section]


@pytest.mark.parametrize("section", SECTIONS)
@settings(max_examples=40, deadline=None)
@given(base=bases, where=st.integers(0, 10_000), value=weird, delete=st.booleans())
def test_header_values_of_every_type_and_magnitude(
    tmp_path_factory, section, base, where, value, delete
):
    paths = _paths(base, section)
    path = paths[where % len(paths)]
    if delete:
        data = mm.delete_header_entry(BASES[base], path)
    else:
        data = mm.set_header_value(BASES[base], path, value)
    _check(tmp_path_factory.mktemp("h"), data)


@pytest.mark.parametrize("raw", [mm.HUGE_INT, mm.DEEP, "1e999", "-1e999", "NaN", '"\\ud800"'])
@pytest.mark.parametrize("where", ["metadata", "rng", "optimizer", "history", "schedule"])
def test_raw_json_that_python_parses_badly(tmp_path, raw, where):
    _check(tmp_path, mm.set_header_value(BASES["classifier"], (where,), raw=raw))
