"""Targets and batches, one function at a time: labels to one-hot rows, the default loss, how
outputs are read as classes, and the rows each batch gathers (slices, permutations, memmaps)."""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest
import scipy.sparse

import deltaprop as dp
from deltaprop.batches import NonFiniteBatch, as_inputs, batches, gather
from deltaprop.losses import get_loss
from deltaprop.targets import accuracy_kind, count_correct, default_loss, prepare_targets


def _net(sizes, activations, dtype=np.float64):
    return dp.Network.from_sizes(sizes, activations, seed=0, dtype=dtype)


def _raises(exc, message):
    """``pytest.raises`` matching the whole message."""
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


# --- targets.py ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "loss"),
    [("softmax", "cross_entropy"), ("sigmoid", "log_loss"), ("identity", "squared_error"),
     ("tanh", "squared_error"), ("relu", "squared_error")],
)  # fmt: skip
def test_default_loss_pairs_with_the_output_activation(output, loss):
    """The documented pairs: softmax → cross-entropy, sigmoid → log loss, otherwise ½ squared
    error (tanh and ReLU have no loss of their own: the fallback)."""
    assert default_loss(_net([2, 3], output)) == loss


def test_one_hot_rows_are_in_the_networks_dtype():
    """``t`` is made in the network's dtype (float32 here), one 1 per row at the label."""
    net = _net([2, 3], "softmax", dtype=np.float32)
    t = prepare_targets(net, np.array([2, 0, 1, 2]), 4)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t, np.eye(3, dtype=np.float32)[[2, 0, 1, 2]])


def test_labels_that_are_not_whole_numbers_are_refused_by_their_message():
    net = _net([2, 3], "softmax")
    with _raises(ValueError, "y is 1-D: expected integer class labels 0…2"):
        prepare_targets(net, np.array([0.0, 1.5, 2.0]), 3)
    with _raises(ValueError, "y is 1-D: expected integer class labels 0…2"):
        prepare_targets(net, np.array(["a", "b", "c"]), 3)  # not numbers at all


def test_labels_out_of_range_are_refused_with_the_range_they_span():
    net = _net([2, 3], "softmax")
    with _raises(ValueError, "class labels must lie in 0…2 for 3 outputs, got -1…2"):
        prepare_targets(net, np.array([0, -1, 2]), 3)
    with _raises(ValueError, "class labels must lie in 0…2 for 3 outputs, got 1…3"):
        prepare_targets(net, np.array([1, 3, 2]), 3)
    with _raises(ValueError, "class labels must lie in 0…2 for 3 outputs, got 0…3"):
        prepare_targets(net, np.array([0.0, 3.0, 2.0]), 3)  # whole floats: read as labels


def test_whole_number_labels_of_any_float_dtype_are_labels():
    """float32 labels 2.0, 0.0 are whole numbers: one-hot like the integers 2, 0."""
    net = _net([2, 3], "softmax")
    t = prepare_targets(net, np.array([2.0, 0.0], dtype=np.float32), 2)
    np.testing.assert_array_equal(t, [[0, 0, 1], [1, 0, 0]])


def test_integer_labels_are_reported_as_given():
    """Labels of any integer dtype are read as they are, not converted first: a uint64 label
    2⁶⁴ − 1 is named as such (as int64 it would read −1)."""
    net = _net([2, 3], "softmax")
    with _raises(ValueError, f"class labels must lie in 0…2 for 3 outputs, got 0…{2**64 - 1}"):
        prepare_targets(net, np.array([0, 2**64 - 1], dtype=np.uint64), 2)


def test_labels_at_the_ends_of_the_range_are_accepted():
    """0 and k − 1 are both valid labels: the bounds are ``< 0`` and ``≥ k``."""
    net = _net([2, 3], "softmax")
    np.testing.assert_array_equal(prepare_targets(net, np.array([0, 2]), 2), [[1, 0, 0], [0, 0, 1]])


def test_one_output_reads_a_1d_y_as_the_target_column_not_as_labels():
    """With one output a 1-D ``y`` is the target column itself (values 0.25, 3 stay as given)."""
    net = _net([2, 1], "identity")
    np.testing.assert_array_equal(prepare_targets(net, np.array([0.25, 3.0]), 2), [[0.25], [3.0]])


def test_two_outputs_read_a_1d_y_as_labels():
    """Two outputs (the smallest ``k > 1``) already take 1-D labels."""
    net = _net([2, 2], "softmax")
    np.testing.assert_array_equal(prepare_targets(net, np.array([1, 0, 1]), 3),
                                  [[0, 1], [1, 0], [0, 1]])  # fmt: skip


@pytest.mark.parametrize(
    ("output", "units", "loss", "kind"),
    [
        ("softmax", 3, "cross_entropy", "argmax"),
        ("softmax", 3, "squared_error", "argmax"),  # softmax outputs are classes, whatever loss
        ("identity", 3, "cross_entropy", "argmax"),  # several outputs with the cross-entropy
        ("identity", 2, "cross_entropy", "argmax"),
        ("sigmoid", 2, "cross_entropy", "argmax"),
        ("sigmoid", 1, "cross_entropy", "threshold"),  # one output: argmax would always say 0
        ("identity", 1, "cross_entropy", None),
        ("sigmoid", 2, "log_loss", "threshold"),
        ("sigmoid", 1, "squared_error", "threshold"),
        ("identity", 1, "log_loss", "threshold"),
        ("identity", 2, "squared_error", None),  # regression with two outputs
        ("tanh", 1, "squared_error", None),
    ],
)
def test_accuracy_kind_by_output_activation_and_loss(output, units, loss, kind):
    """The documented rule: argmax for softmax or several outputs with the cross-entropy,
    threshold for sigmoid or the log loss, otherwise None (regression)."""
    assert accuracy_kind(_net([2, units], output), get_loss(loss)) == kind


def test_count_correct_argmax_compares_each_rows_largest_entry():
    """Rows 0 and 2 pick the target's class (1, 0), row 1 picks 2 instead of 0: two right."""
    o = np.array([[0.1, 0.7, 0.2], [0.3, 0.3, 0.4], [0.5, 0.2, 0.3]])
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert count_correct("argmax", o, t) == 2


@pytest.mark.parametrize(
    ("o", "t", "right"),
    [
        ([0.9, 0.2], [1.0, 0.0], True),
        ([0.9, 0.7], [1.0, 0.0], False),  # the second output says yes, the target no
        ([0.2, 0.1], [1.0, 0.0], False),
        ([0.5, 0.1], [0.0, 0.0], True),  # exactly 0.5 is "no"
        ([0.5, 0.1], [1.0, 0.0], False),
        ([0.6, 0.0], [0.5, 0.0], False),  # a target of 0.5 is "no" too
    ],
)
def test_count_correct_threshold_needs_every_output_of_a_row_right(o, t, right):
    """Outputs read as ``o > 0.5``; a row counts when all of them agree with ``t > 0.5``."""
    assert count_correct("threshold", np.array([o]), np.array([t])) == int(right)


def test_count_correct_threshold_counts_the_right_rows_of_a_batch():
    o = np.array([[0.9, 0.2], [0.9, 0.7], [0.5, 0.1], [0.1, 0.8]])
    t = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    assert count_correct("threshold", o, t) == 3  # all but row 1


def test_count_correct_counts_nothing_for_regression():
    o = np.array([[0.25], [2.0]])
    assert count_correct(None, o, o.copy()) == 0


def test_count_correct_returns_a_python_int():
    """An ``int``, not a NumPy scalar: it is summed over batches and divided for the history."""
    o = np.eye(3)
    assert type(count_correct("argmax", o, o)) is int
    assert type(count_correct("threshold", o, o)) is int


# --- batches.py ---------------------------------------------------------------------------------


def test_batches_in_stored_order_are_consecutive_slices_with_a_short_last_one():
    assert list(batches(10, 4, None)) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert list(batches(8, 4, None)) == [slice(0, 4), slice(4, 8)]
    assert list(batches(3, 5, None)) == [slice(0, 3)]


def test_batches_in_a_given_order_are_its_consecutive_runs():
    order = np.array([4, 1, 3, 0, 2])
    runs = [r.tolist() for r in batches(5, 2, order)]
    assert runs == [[4, 1], [3, 0], [2]]


def test_gather_copies_the_rows_of_a_slice_and_of_a_permutation():
    x = np.arange(12.0).reshape(6, 2)
    out = np.empty((3, 2))
    gather(x, slice(2, 5), out)
    np.testing.assert_array_equal(out, [[4, 5], [6, 7], [8, 9]])
    gather(x, np.array([5, 0, 3]), out)
    np.testing.assert_array_equal(out, [[10, 11], [0, 1], [6, 7]])


def test_gather_casts_rows_of_another_dtype_into_the_buffer():
    """A float64 ``x`` into a float32 buffer: rounded to float32, for slices and index arrays."""
    x = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    out = np.empty((2, 2), dtype=np.float32)
    gather(x, np.array([2, 0]), out)
    np.testing.assert_array_equal(out, x[[2, 0]].astype(np.float32))
    gather(x, slice(1, 3), out)
    np.testing.assert_array_equal(out, x[1:3].astype(np.float32))


def test_gather_by_index_allocates_nothing_batch_sized():
    """``take(..., out=, mode="clip")`` writes straight into the buffer; ``mode="raise"`` (the
    default) first copies into a temporary of the buffer's size."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1_000, 50))
    out = np.empty((200, 50))
    idx = rng.permutation(1_000)[:200]
    gather(x, idx, out)  # warm-up
    tracemalloc.start()
    try:
        gather(x, idx, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < out.nbytes // 4, f"gather allocated {peak} bytes"
    np.testing.assert_array_equal(out, x[idx])


def test_gather_densifies_the_rows_of_a_sparse_matrix():
    """A CSR matrix: its rows by a slice or by index, dense and cast to the buffer's float32."""
    dense = np.array([[0.0, 1.5], [2.25, 0.0], [0.0, 0.0], [3.0, 4.0]])
    x = scipy.sparse.csr_matrix(dense)
    out = np.empty((2, 2), dtype=np.float32)
    gather(x, slice(1, 3), out)
    np.testing.assert_array_equal(out, dense[1:3])
    gather(x, np.array([3, 0]), out)
    np.testing.assert_array_equal(out, dense[[3, 0]])


def test_inputs_in_memory_become_the_networks_dtype_checked_by_name():
    net = _net([2, 1], "identity", dtype=np.float32)
    x = as_inputs(net, [[1, 2], [3, 4]], "x")
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    with _raises(ValueError, "x_val has 3 columns, expected 2"):
        as_inputs(net, np.ones((2, 3)), "x_val")
    with _raises(ValueError, "x contains NaN or infinity (first at index [1, 0])"):
        as_inputs(net, [[1.0, 2.0], [np.nan, 4.0]], "x")


def _memmap(tmp_path, values, dtype=np.float32):
    values = np.asarray(values, dtype=dtype)
    mm = np.memmap(tmp_path / "x.bin", dtype=dtype, mode="w+", shape=values.shape)
    mm[...] = values
    mm.flush()
    return np.memmap(tmp_path / "x.bin", dtype=dtype, mode="r", shape=values.shape)


def test_a_memmap_is_kept_on_disk_not_copied(tmp_path):
    mm = _memmap(tmp_path, np.ones((4, 2)))
    assert as_inputs(_net([2, 1], "identity"), mm, "x") is mm


def test_a_memmap_of_the_wrong_shape_is_refused_by_name(tmp_path):
    net = _net([2, 1], "identity")
    with _raises(ValueError, "x_val must have shape (n, 2), got (4,)"):
        as_inputs(net, _memmap(tmp_path, np.ones(4)), "x_val")
    with _raises(ValueError, "x must have shape (n, 2), got (2, 3)"):
        as_inputs(net, _memmap(tmp_path, np.ones((2, 3))), "x")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8, np.bool_])
def test_a_memmap_of_real_numbers_or_bools_is_accepted(tmp_path, dtype):
    mm = _memmap(tmp_path, np.ones((3, 2)), dtype=dtype)
    assert as_inputs(_net([2, 1], "identity"), mm, "x") is mm


@pytest.mark.parametrize(
    ("dtype", "message"),
    [
        (np.complex64, "x_val must hold real numbers, got complex dtype complex64"),
        ("S4", "x_val must hold numbers, got an array of dtype |S4"),
        ("U1", "x_val must hold numbers, got an array of dtype <U1"),
    ],
)
def test_a_memmap_of_anything_but_real_numbers_is_refused_by_name(tmp_path, dtype, message):
    """The messages ``as_2d_float`` gives for an array in memory."""
    mm = np.memmap(tmp_path / "x.bin", dtype=dtype, mode="w+", shape=(3, 2))
    with _raises(TypeError, message):
        as_inputs(_net([2, 1], "identity"), mm, "x_val")


def test_a_complex_validation_memmap_is_refused_before_training(tmp_path):
    """Refused up front under its own name, the network untouched (it used to be refused by
    the first epoch's validation, as "x", after that epoch's updates)."""
    mm = np.memmap(tmp_path / "v.bin", dtype=np.complex64, mode="w+", shape=(3, 2))
    net = _net([2, 1], "identity")
    before = net.get_weights()
    with _raises(TypeError, "x_val must hold real numbers, got complex dtype complex64"):
        net.fit(np.ones((4, 2)), np.zeros(4), epochs=1, validation_data=(mm, np.zeros(3)))
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize(
    ("idx", "where"),
    [(slice(2, 5), "[3, 1]"), (np.array([4, 3, 0]), "[3, 1]"), (np.array([3, 4, 0]), "[3, 1]")],
)
def test_a_nan_read_from_a_memmap_is_reported_at_its_place_in_x(tmp_path, idx, where):
    """The position in ``x``, not in the batch: row 3 is the batch's second row (slice 2:5,
    order [4, 3, 0]) or its first; the column is 1."""
    values = np.ones((5, 2))
    values[3, 1] = np.nan
    mm = _memmap(tmp_path, values)
    with _raises(NonFiniteBatch, f"x contains NaN or infinity (at index {where})"):
        gather(mm, idx, np.empty((3, 2)))


def test_an_infinity_in_a_memmap_is_refused_too(tmp_path):
    values = np.ones((3, 2))
    values[2, 0] = -np.inf
    mm = _memmap(tmp_path, values)
    with _raises(NonFiniteBatch, "x contains NaN or infinity (at index [2, 0])"):
        gather(mm, slice(0, 3), np.empty((3, 2), dtype=np.float32))


def test_finite_rows_of_a_memmap_are_gathered_as_they_are(tmp_path):
    values = np.arange(10.0).reshape(5, 2)
    mm = _memmap(tmp_path, values)
    out = np.empty((2, 2))
    gather(mm, np.array([4, 1]), out)
    np.testing.assert_array_equal(out, values[[4, 1]])
