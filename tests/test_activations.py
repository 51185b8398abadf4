"""The activations' registry, their ``Activation`` methods, kernels and formulas, one fact each.

Written for the mutation review of ``src/deltaprop/activations/`` (docs/testing.md): every number
is computed here from the definition (NumPy written out, torch, or a closed form), every message
and every rendered formula is written out by hand.
"""

from __future__ import annotations

import re

import pytest

import deltaprop as dp
from deltaprop import activations as act_module


def _square(z):
    return z * z


def _square_prime(z, a):
    return 2 * z


# --- register_activation ------------------------------------------------------------------------


def test_registered_activation_defaults_name_its_formulas_label_and_z_dependence():
    """Without formulas or label: ``name(z)``, ``name'(z)``, the name's first five letters; and a
    user derivative is taken to read ``z`` (the loop must not overwrite ``z`` with ``a``)."""
    act = dp.register_activation("squared", _square, _square_prime)
    assert act.formula == "squared(z)"
    assert act.derivative_formula == "squared'(z)"
    assert act.label == "squar"
    assert act.derivative_from_output is False
    assert dp.get_activation("squared") is act


def test_registered_activation_keeps_the_formulas_and_label_it_is_given():
    act = dp.register_activation("squared", _square, _square_prime, "z²", "2z", label="sq")
    assert (act.formula, act.derivative_formula, act.label) == ("z²", "2z", "sq")


def test_register_activation_messages_are_whole():
    callables = re.escape("function and derivative must be callables") + "$"
    with pytest.raises(TypeError, match=callables):
        dp.register_activation("broken", _square, "not a function")
    with pytest.raises(TypeError, match=callables):
        dp.register_activation("broken", None, _square_prime)
    message = "activation name must be a non-empty string, got ''"
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        dp.register_activation("", _square, _square_prime)
    assert "broken" not in dp.available_activations()


# --- get_activation, available_activations -------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "name"),
    [("linear", "identity"), ("none", "identity"), ("logistic", "sigmoid"),
     ("Logistic", "sigmoid"), ("LINEAR", "identity"), ("ReLU", "relu")],
)  # fmt: skip
def test_aliases_and_names_are_read_case_insensitively(alias, name):
    assert dp.get_activation(alias) is act_module._REGISTRY[name]
    assert dp.get_activation(alias).name == name


def test_get_activation_messages_are_whole():
    names = "elu, gelu, identity, leaky_relu, relu, sigmoid, silu, softmax, softplus, tanh"
    message = f"unknown activation 'swish'; expected one of {names}"
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        dp.get_activation("swish")
    message = "activation must be a name (str), got int"
    with pytest.raises(TypeError, match=re.escape(message) + "$"):
        dp.get_activation(3)


def test_available_activations_are_the_ten_built_ins_sorted():
    assert dp.available_activations() == [
        "elu", "gelu", "identity", "leaky_relu", "relu", "sigmoid", "silu", "softmax",
        "softplus", "tanh",
    ]  # fmt: skip
