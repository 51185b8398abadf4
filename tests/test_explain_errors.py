"""Bad specs get one clear line naming the key and what was expected, and exit code 2."""

from __future__ import annotations

import json

import pytest

from deltaprop.cli import main
from deltaprop.spec import SpecError, parse_spec

GOOD = {
    "layers": [2, 2, 1],
    "activations": ["sigmoid", "sigmoid"],
    "loss": "squared_error",
    "weights": [[[0.5, 0.4], [0.9, 1.0]], [[-1.2, 1.1]]],
    "biases": [[-0.8, 0.1], [-0.3]],
    "input": [[0, 0], [0, 1], [1, 0], [1, 1]],
    "target": [[0], [1], [1], [0]],
    "learning_rate": 0.1,
}


def run(tmp_path, capsys, text: str, suffix: str = ".json") -> tuple[int, str, str]:
    path = tmp_path / f"spec{suffix}"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    rc = main(["explain", str(path)])
    out, err = capsys.readouterr()
    return rc, out, err


def changed(**kw) -> str:
    spec = {**GOOD, **kw}
    return json.dumps({k: v for k, v in spec.items() if v is not DROP})


DROP = object()

CASES = [
    (changed(weights=DROP), "missing key 'weights'"),
    (changed(learningrate=0.1), "unknown key 'learningrate'; expected keys: layers,"),
    (changed(layers=[2]), "layers: expected neurons per layer as a list of at least two"),
    (changed(layers=[2, 0, 1]), "layers: expected neurons per layer"),
    (changed(activations=["sigmoid"]), "activations: expected one name per non-input layer (2)"),
    (changed(activations=["sigmoid", "sigmod"]), "activations[1]: unknown activation 'sigmod'"),
    (changed(activations=["sigmoid", 3]), "activations[1]: expected a name (a string), got 3"),
    (changed(loss="l2"), "loss: unknown loss 'l2'; expected one of cross_entropy, log_loss"),
    (changed(weights=[[[0.5, 0.4], [0.9, 1.0]]]), "weights: expected one matrix per non-input"),
    (
        changed(weights=[[[0.5, 0.4], [0.9, 1.0]], [[-1.2], [1.1]]]),
        "weights[1]: expected a 1×2 matrix (1 row, one per neuron of layer 2, each of 2 weights, "
        "one per neuron of layer 1), got 2 rows",
    ),
    (
        changed(weights=[[[0.5, 0.4], [0.9, 1.0, 2.0]], [[-1.2, 1.1]]]),
        "weights[0]: expected a 2×2 matrix",
    ),
    (
        changed(weights=[[[0.5, "0.4"], [0.9, 1.0]], [[-1.2, 1.1]]]),
        "weights[0][0][1]: expected a number, got '0.4' (a str)",
    ),
    (
        changed(weights=[[[0.5, 0.4], [0.9, 1.0]], [[-1.2, float("nan")]]]),
        "weights[1][0][1]: expected a finite number, got nan",
    ),
    (changed(biases=[[-0.8, 0.1, 0.0], [-0.3]]), "biases[0]: expected a vector of 2 numbers"),
    (changed(biases=[[-0.8, 0.1]]), "biases: expected one vector (or null/false for none) per"),
    (changed(input=[[0, 0], [0, 1], [1, 0], [1, 1, 1]]), "input[3]: expected a vector of 2"),
    (changed(input=[0, True]), "input[1]: expected a number, got true (a boolean)"),
    (changed(input=[]), "input: expected a vector of 2 numbers or a list of such vectors"),
    (changed(target=[[0], [1], [1]]), "target: expected 4 sample(s) to match input, got 3"),
    (changed(target=[[0], [1], [1], [float("inf")]]), "target[3][0]: expected a finite number"),
    (changed(learning_rate=-0.1), "learning_rate: expected a positive number, got -0.1"),
    (changed(learning_rate="fast"), "learning_rate: expected a number, got 'fast'"),
    (changed(optimizer="adamm"), "optimizer: unknown optimizer 'adamm'; expected one of"),
    (changed(optimizer={"name": "adam", "beta9": 1}), "optimizer: bad settings for optimizer"),
    (changed(optimizer={"name": "momentum", "momentum": -1}), "Invalid momentum value: -1"),
    (
        changed(optimizer={"name": "sgd", "learning_rate": 0.1}),
        "optimizer.learning_rate: give the learning rate once, as learning_rate",
    ),
    (changed(optimizer=[1]), "optimizer: expected a name or a table with a name and its settings"),
    ('{"layers": [2, 2, 1],', "not valid JSON: Expecting property name enclosed in double quotes"),
    ("[1, 2]", "expected a table of keys at the top, got a list of 2"),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_bad_json_spec_is_one_clear_line(tmp_path, capsys, text, message):
    rc, out, err = run(tmp_path, capsys, text)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"Error: {tmp_path / 'spec.json'}: ")
    assert message in err
    assert "Traceback" not in err


TOML = """
layers = [1, 1, 1]
activations = ["sigmoid", "identity"]
loss = "squared_error"
weights = [[[0.4]], [[0.3]]]
biases = [[0.1], [0.2]]
input = [0.5]
target = [0.6]
learning_rate = 0.1
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("learning_rate = 0.1", "learning_rate = inf", "learning_rate: expected a finite number"),
        ("weights = [[[0.4]], [[0.3]]]", "weights = [[[nan]], [[0.3]]]", "weights[0][0][0]: "),
        ("input = [0.5]", "input = [0.5, 1.0]", "input: expected a vector of 1 number, got 2"),
        ('loss = "squared_error"', "loss = 3", "loss: expected a name (a string), got 3"),
        ("target = [0.6]", "target = [0.6", "not valid TOML: "),
        ("layers = [1, 1, 1]", "layers = [1, 1, 1]\nlayers = [1]", "not valid TOML: "),
    ],
)
def test_bad_toml_spec_is_one_clear_line(tmp_path, capsys, old, new, message):
    assert old in TOML
    rc, out, err = run(tmp_path, capsys, TOML.replace(old, new), ".toml")
    assert rc == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("Error: ") and message in err and "Traceback" not in err


def test_good_toml_and_false_for_no_bias_are_accepted(tmp_path, capsys):
    rc, out, err = run(tmp_path, capsys, TOML.replace("[[0.1], [0.2]]", "[false, [0.2]]"), ".toml")
    assert rc == 0 and err == "" and "b₁⁽¹⁾" not in out and "b₁⁽²⁾ ← 0.2000" in out


def test_missing_unreadable_and_empty_files(tmp_path, capsys):
    capsys.readouterr()
    assert main(["explain", str(tmp_path / "nope.toml")]) == 2
    assert capsys.readouterr().err == f"Error: {tmp_path / 'nope.toml'}: no such file\n"
    bad = tmp_path / "bin.toml"
    bad.write_bytes(b"\xff\xfe\x00layers")
    assert main(["explain", str(bad)]) == 2
    assert "cannot be read" in capsys.readouterr().err
    rc, _, err = run(tmp_path, capsys, "", ".toml")
    assert rc == 2 and "missing key 'layers'" in err


def test_bad_options_are_one_line_too(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(GOOD))
    for args in (["--steps", "0"], ["--format", "pdf"], ["--decimals", "-1"], ["--bogus"]):
        capsys.readouterr()
        assert main(["explain", str(path), *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("Error: ") and "explain --help" in err


def test_spec_error_is_a_value_error_from_the_api():
    with pytest.raises(SpecError, match=r"^spec: weights\[1\]: expected a 1×2 matrix"):
        parse_spec(changed(weights=[[[0.5, 0.4], [0.9, 1.0]], [[1.0]]]), ".json")
    assert issubclass(SpecError, ValueError)
