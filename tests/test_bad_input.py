"""Bad input gets a clear error at the boundary: the argument, what was found, what was expected."""

import numpy as np
import pytest

import deltaprop as dp


@pytest.fixture
def net():
    return dp.Network.from_sizes([2, 3, 1], ["tanh", "identity"], seed=0)


X = np.zeros((4, 2))
Y = np.zeros((4, 1))


# --- data ---------------------------------------------------------------------------------------


def test_wrong_number_of_columns(net):
    with pytest.raises(ValueError, match=r"^x has 3 columns, expected 2$"):
        net.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"^x has 3 columns, expected 2$"):
        net.fit(np.zeros((4, 3)), Y)
    with pytest.raises(ValueError, match=r"^x_val has 3 columns, expected 2$"):
        net.fit(X, Y, validation_data=(np.zeros((2, 3)), np.zeros((2, 1))))
    with pytest.raises(ValueError, match=r"^x has 5 columns, expected 2$"):
        dp.gradcheck(net, np.zeros((2, 5)), np.zeros((2, 1)), "mse")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinity_in_x_names_where(net, bad):
    x = X.copy()
    x[2, 1] = bad
    with pytest.raises(
        ValueError, match=r"^x contains NaN or infinity \(first at index \[2, 1\]\)"
    ):
        net.fit(x, Y)
    with pytest.raises(ValueError, match=r"x contains NaN or infinity"):
        net.predict(x)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_infinity_in_y_names_where(net, bad):
    y = Y.copy()
    y[3, 0] = bad
    with pytest.raises(
        ValueError, match=r"target contains NaN or infinity \(first at index \[3, 0\]"
    ):
        net.fit(X, y)
    with pytest.raises(ValueError, match=r"target contains NaN or infinity"):
        net.gradients(X, y, "squared_error")
    with pytest.raises(ValueError, match=r"x_val contains NaN"):
        net.fit(X, Y, validation_data=(np.full((2, 2), bad), np.zeros((2, 1))))


def test_nan_in_a_memmap_names_the_row_in_x(net, tmp_path):
    path = tmp_path / "x.f32"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(6, 2))
    mm[:] = 1.0
    mm[4, 1] = np.nan
    mm.flush()
    on_disk = np.memmap(path, dtype=np.float32, mode="r", shape=(6, 2))
    with pytest.raises(ValueError, match=r"x contains NaN or infinity \(.*index \[4, 1\]\)"):
        net.fit(on_disk, np.zeros((6, 1)), batch_size=2, seed=0)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\), got \(4, 3\)"):
        net.fit(np.memmap(path, dtype=np.float32, mode="r", shape=(4, 3)), Y)


def test_wrong_target_shape(net):
    with pytest.raises(ValueError, match=r"target has shape \(4, 2\), expected \(4, 1\)"):
        net.fit(X, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"target has shape \(3, 1\), expected \(4, 1\)"):
        net.fit(X, np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"target has shape \(3, 1\), expected \(4, 1\)"):
        net.gradients(X, np.zeros(3), "mse")
    softmax = dp.Network.from_sizes([2, 3], "softmax", seed=0)
    with pytest.raises(ValueError, match=r"class labels must lie in 0…2 for 3 outputs, got 0…3"):
        softmax.fit(X, [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"expected integer class labels 0…2"):
        softmax.fit(X, [0.5, 1, 2, 0])


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.array([["a", "b"]]), r"x must hold numbers, got an array of dtype <U1"),
        (
            np.array([[1.0, 2.0]], dtype=object),
            r"x must hold numbers, got an array of dtype object",
        ),
        ([[1.0, "2"]], r"x must hold numbers, got an array of dtype <U"),
        (np.zeros((2, 2), dtype=complex), r"x must hold real numbers, got complex dtype"),
    ],
)
def test_non_numeric_dtypes_are_refused(net, x, message):
    # TypeError: the value has the wrong type, not merely a wrong value.
    with pytest.raises(TypeError, match=message):
        net.fit(x, np.zeros((len(x), 1)))
    with pytest.raises(TypeError, match=message):
        net.predict(x)


def test_ragged_and_misshapen_x(net):
    with pytest.raises(ValueError, match=r"x could not be read as a numeric array"):
        net.predict([[1.0, 2.0], [1.0]])
    with pytest.raises(ValueError, match=r"x must be a 2-D array .* got a scalar"):
        net.predict(3.0)
    with pytest.raises(ValueError, match=r"x must be a 2-D array .* got shape \(2, 2, 2\)"):
        net.predict(np.zeros((2, 2, 2)))


def test_empty_x(net):
    with pytest.raises(ValueError, match=r"^x has no samples \(shape \(0, 2\)\)$"):
        net.fit(np.empty((0, 2)), np.empty((0, 1)))
    with pytest.raises(ValueError, match=r"^x has no samples"):
        net.predict(np.empty((0, 2)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_weight": [1, 2, 3]}, r"sample_weight has shape \(3,\), expected \(4,\)"),
        ({"sample_weight": [1, -2, 3, 1]}, r"sample_weight must be non-negative"),
        ({"sample_weight": [0, 0, 0, 0]}, r"sample_weight sums to zero"),
        ({"sample_weight": [1, np.nan, 1, 1]}, r"sample_weight contains NaN"),
        ({"validation_data": (X,)}, r"validation_data must be a pair \(x_val, y_val\)"),
    ],
)
def test_bad_sample_weights_and_validation_data(net, kwargs, message):
    with pytest.raises(ValueError, match=message):
        net.fit(X, Y, **kwargs)


# --- names --------------------------------------------------------------------------------------


def test_unknown_names_list_the_known_ones(net):
    # Every registered name, sorted: not "starts with elu", which a user registration before this
    # test (say "cube") would falsify although the message would be right.
    known = dp.available_activations()
    assert {"elu", "sigmoid", "tanh", "relu", "softmax"} <= set(known) and known == sorted(known)
    with pytest.raises(ValueError) as info:
        dp.Network.from_sizes([2, 1], "swish")
    assert str(info.value) == f"unknown activation 'swish'; expected one of {', '.join(known)}"
    with pytest.raises(ValueError, match=r"unknown activation 'swish'"):
        dp.Network.from_weights([np.zeros((1, 2))], activations=["swish"])
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; expected one of cross_entropy"):
        net.fit(X, Y, loss="hinge")
    with pytest.raises(ValueError, match=r"unknown optimizer 'lbfgs'; expected one of adadelta"):
        net.fit(X, Y, optimizer="lbfgs")
    with pytest.raises(ValueError, match=r"unknown initializer 'orthogonal'; expected one of"):
        dp.Network.from_sizes([2, 1], init="orthogonal")
    with pytest.raises(ValueError, match=r"unknown schedule 'cosine'; expected one of constant"):
        net.fit(X, Y, schedule="cosine")
    with pytest.raises(ValueError, match=r"unknown monitor 'f1'"):
        dp.EarlyStopping(monitor="f1")


def test_names_of_the_wrong_type(net):
    with pytest.raises(TypeError, match=r"loss must be a name \(str\), got int"):
        net.fit(X, Y, loss=3)
    with pytest.raises(TypeError, match=r"activation must be a name \(str\), got int"):
        dp.get_activation(3)
    with pytest.raises(TypeError, match=r"activations must be a name or one per layer, got int"):
        dp.Network.from_sizes([2, 1], 3)


# --- shapes, sizes and dtypes of networks -------------------------------------------------------


def test_mismatched_weight_shapes_in_from_weights():
    with pytest.raises(ValueError, match=r"W2 has 4 columns but layer 1 has 3 units"):
        dp.Network.from_weights([np.zeros((3, 2)), np.zeros((1, 4))])
    with pytest.raises(ValueError, match=r"b1 must have shape \(3,\), got \(2,\)"):
        dp.Network.from_weights([np.zeros((3, 2))], [np.zeros(2)])
    with pytest.raises(ValueError, match=r"biases has 2 entries, expected one per layer \(1\)"):
        dp.Network.from_weights([np.zeros((3, 2))], [None, None])
    with pytest.raises(
        ValueError, match=r"activations has 1 entries, expected one per layer \(2\)"
    ):
        dp.Network.from_weights([np.zeros((3, 2)), np.zeros((1, 3))], activations=["tanh"])
    with pytest.raises(ValueError, match=r"weights\[0\] must be a 2-D array"):
        dp.Network.from_weights([np.zeros((3, 2, 1))])
    with pytest.raises(ValueError, match=r"weights\[0\] contains NaN or infinity"):
        dp.Network.from_weights([np.full((3, 2), np.nan)])


def test_bad_sizes():
    for sizes in ([2], [2, 0, 1], [2, 1.5], [2, True]):
        with pytest.raises(ValueError, match=r"sizes must be at least two positive whole numbers"):
            dp.Network.from_sizes(sizes)
    with pytest.raises(
        ValueError, match=r"activations has 1 entries, expected one per layer \(2\)"
    ):
        dp.Network.from_sizes([2, 3, 1], ["tanh"])


@pytest.mark.parametrize("dtype", [int, np.int32, np.float16, bool])
def test_non_float_dtypes_are_refused(dtype):
    name = np.dtype(dtype).name
    with pytest.raises(ValueError, match=rf"dtype must be float32 or float64, got {name}"):
        dp.Network.from_sizes([2, 1], dtype=dtype)
    with pytest.raises(ValueError, match=rf"dtype must be float32 or float64, got {name}"):
        dp.Network.from_weights([np.zeros((1, 2))], dtype=dtype)


def test_set_weights_checks_names_and_shapes(net):
    with pytest.raises(ValueError, match=r"expected parameters \['W1', 'W2', 'b1', 'b2'\]"):
        net.set_weights({"W1": np.zeros((3, 2))})
    with pytest.raises(ValueError, match=r"W1 must have shape \(3, 2\), got \(9, 9\)"):
        net.set_weights({k: np.zeros((9, 9)) for k in net.params()})


# --- training settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": -0.1}, r"Invalid learning rate: -0\.1 \(expected > 0\.0\)"),
        ({"learning_rate": 0}, r"Invalid learning rate: 0 \(expected > 0\.0\)"),
        ({"learning_rate": float("inf")}, r"Invalid learning rate: inf"),
        ({"learning_rate": True}, r"Invalid learning rate: True"),
        ({"optimizer": {"name": "adam", "lr": -1}}, r"Invalid learning rate: -1"),
        ({"epochs": -1}, r"Invalid epochs: -1 \(expected >= 0\)"),
        ({"epochs": 2.5}, r"Invalid epochs: 2\.5 \(expected a whole number\)"),
        ({"initial_epoch": -1}, r"Invalid initial_epoch: -1 \(expected >= 0\)"),
        ({"batch_size": 0}, r"Invalid batch_size: 0 \(expected >= 1\)"),
        ({"batch_size": 2.5}, r"Invalid batch_size: 2\.5 \(expected a whole number\)"),
        ({"l2": -1}, r"Invalid l2: -1 \(expected >= 0\.0\)"),
        ({"early_stopping": -2}, r"Invalid patience: -2|Invalid early_stopping: -2"),
    ],
)
def test_bad_training_settings(net, kwargs, message):
    before = net.get_weights()
    with pytest.raises(ValueError, match=message):
        net.fit(X, Y, **kwargs)
    for k, v in net.get_weights().items():  # refused before anything was trained
        np.testing.assert_array_equal(v, before[k])


def test_bad_schedule_settings():
    with pytest.raises(ValueError, match=r"Invalid step_size: 0 \(expected >= 1\)"):
        dp.StepDecay(step_size=0)
    with pytest.raises(ValueError, match=r"Invalid gamma: 0\.0 \(expected > 0\.0\)"):
        dp.ExponentialDecay(gamma=0.0)
    with pytest.raises(ValueError, match=r"Invalid factor: 1\.0 \(expected < 1\.0\)"):
        dp.ReduceOnPlateau(factor=1.0)
    with pytest.raises(ValueError, match=r"Invalid power: -1"):
        dp.InverseScaling(power=-1)
