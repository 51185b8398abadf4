"""Golden values: worked solutions against published worked examples.

Seed 001 ("Back-propagation and forward propagation in Neural Networks"): x = 0.5, w1 = 0.4,
b1 = 0.1, w2 = 0.3, b2 = 0.2, t = 0.6, η = 0.1, h = σ(w1 x + b1), y = w2 h + b2, L = ½(y − t)².
Where the tutorial's text rounds wrongly, the test asserts the correct value and says why.

Negnevitsky, *Artificial Intelligence* (2nd ed., §6.4): the 2-2-1 sigmoid XOR network trained on
x = (1, 1), y_d = 0, α = 0.1 (its thresholds θ are our biases b = −θ; its δ = y(1 − y)e with
e = y_d − y is our −δ).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import deltaprop as dp
from deltaprop.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def seed_text() -> str:
    return dp.load_spec(EXAMPLES / "seed001.toml").explain().to_text()


@pytest.mark.parametrize(
    "line",
    [
        # forward pass: h = σ(0.4·0.5 + 0.1) = σ(0.3) = 0.5744, y = 0.3·0.5744 + 0.2 = 0.3723
        "z₁⁽¹⁾ = w₁₁⁽¹⁾·x₁ + b₁⁽¹⁾ = 0.4000·0.5000 + 0.1000 = 0.3000",
        "a₁⁽¹⁾ = σ(z₁⁽¹⁾) = σ(0.3000) = 0.5744",
        "z₁⁽²⁾ = w₁₁⁽²⁾·a₁⁽¹⁾ + b₁⁽²⁾ = 0.3000·0.5744 + 0.2000 = 0.3723",
        # The tutorial's text says L = 0.0260, a slip: ½(0.372333 − 0.6)² = 0.025916; its own
        # code prints "Epoch 0, Loss: 0.0259".
        "E = J = ½Σₖ (oₖ − tₖ)² = ½(0.3723 − 0.6000)² = 0.0259",
        "∂J/∂o₁ = o₁ − t₁ = 0.3723 − 0.6000 = −0.2277",
        "δ₁⁽²⁾ = o₁ − t₁ = 0.3723 − 0.6000 = −0.2277",
        # The tutorial says ∂L/∂w2 = −0.1309, a slip: −0.227667·0.574443 = −0.130782.
        "∂E/∂w₁₁⁽²⁾ = δ₁⁽²⁾·a₁⁽¹⁾ = −0.2277·0.5744 = −0.1308",
        "∂E/∂b₁⁽²⁾ = δ₁⁽²⁾ = −0.2277",
        "f′(z₁⁽¹⁾) = a·(1 − a) = 0.5744·(1 − 0.5744) = 0.2445",
        # The tutorial says ∂L/∂b1 = −0.0166, a slip: −0.227667·0.3·0.244458 = −0.016697.
        "δ₁⁽¹⁾ = f′(z₁⁽¹⁾)·Σₖ wₖ₁⁽²⁾·δₖ⁽²⁾ = 0.2445·(0.3000·(−0.2277)) = 0.2445·(−0.0683) "
        "= −0.0167",
        "∂E/∂w₁₁⁽¹⁾ = δ₁⁽¹⁾·x₁ = −0.0167·0.5000 = −0.0083",
        "∂E/∂b₁⁽¹⁾ = δ₁⁽¹⁾ = −0.0167",
        "w₁₁⁽¹⁾ ← 0.4000 − 0.1·(−0.0083) = 0.4008",
        "b₁⁽¹⁾ ← 0.1000 − 0.1·(−0.0167) = 0.1017",
        "w₁₁⁽²⁾ ← 0.3000 − 0.1·(−0.1308) = 0.3131",
        "b₁⁽²⁾ ← 0.2000 − 0.1·(−0.2277) = 0.2228",
    ],
)
def test_seed001_worked_solution_shows_the_tutorials_numbers(seed_text, line):
    # one equation a line, optionally followed by a note in parentheses: "…    (shortcut)"
    found = [ln.strip() for ln in seed_text.splitlines() if ln.strip().startswith(line)]
    assert found and re.fullmatch(r"( {4}\(\w+\))?", found[0][len(line) :])


def test_seed001_order_is_the_tutorials(seed_text):
    heads = ["1. Forward pass", "2. Loss", "3. Output delta", "4. Hidden deltas", "5. Gradients"]
    heads += ["6. Update", "7. Forward pass with the new parameters"]
    positions = [seed_text.index(h) for h in heads]
    assert positions == sorted(positions)
    assert "The error went from 0.0259 to 0.0194" in seed_text


def tutorial_code(steps: int) -> list[tuple[float, float, float, float, float, float]]:
    """The tutorial's own training loop, verbatim in substance: (loss, y, w1, b1, w2, b2)."""
    x, w1, w2, b1, b2, target, lr = 0.5, 0.4, 0.3, 0.1, 0.2, 0.6, 0.1
    out = []
    for _ in range(steps):
        h = 1 / (1 + math.exp(-(w1 * x + b1)))
        y = w2 * h + b2
        loss = 0.5 * (y - target) ** 2
        dL_dy = y - target
        dL_dz1 = dL_dy * w2 * h * (1 - h)
        w1, b1 = w1 - lr * dL_dz1 * x, b1 - lr * dL_dz1
        w2, b2 = w2 - lr * dL_dy * h, b2 - lr * dL_dy
        out.append((loss, y, w1, b1, w2, b2))
    return out


def test_seed001_sixty_steps_match_the_tutorials_run():
    records = dp.load_spec(EXAMPLES / "seed001.toml").explain(steps=60).as_dict()
    # What the tutorial's code prints: "Epoch e, Loss: …, Output: …"
    printed = {
        0: (0.0259, 0.3723),
        5: (0.0062, 0.4891),
        10: (0.0015, 0.5460),
        15: (0.0003, 0.5738),
        20: (0.0001, 0.5873),
        55: (0.0000, 0.5999),
    }
    for epoch, (loss, output) in printed.items():
        assert round(records[epoch]["loss"], 4) == loss
        assert round(records[epoch]["output"][0], 4) == output
    last = records[-1]
    # "Final output: 0.6000", "Final parameters: w1 = 0.4072, b1 = 0.1143, w2 = 0.3978, b2 = 0.3697"
    assert round(last["output_after"][0], 4) == 0.6
    assert [
        round(v, 4)
        for v in (
            last["weights_after"][0][0][0],
            last["biases_after"][0][0],
            last["weights_after"][1][0][0],
            last["biases_after"][1][0],
        )
    ] == [0.4072, 0.1143, 0.3978, 0.3697]
    for rec, (loss, y, w1, b1, w2, b2) in zip(records, tutorial_code(60), strict=True):
        assert rec["loss"] == pytest.approx(loss, rel=1e-12)
        assert rec["output"][0] == pytest.approx(y, rel=1e-12)
        got = [
            rec["weights_after"][0][0][0],
            rec["biases_after"][0][0],
            rec["weights_after"][1][0][0],
            rec["biases_after"][1][0],
        ]
        assert got == pytest.approx([w1, b1, w2, b2], rel=1e-12)


def test_seed001_steps_table_in_text(capsys):
    assert main(["explain", str(EXAMPLES / "seed001.toml"), "--steps", "16"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("Loss and output per step") :]
    rows = {
        int(m[1]): (m[2], m[3])
        for m in re.finditer(r"^ +(\d+) +([\d.]+) +\(([\d.]+)\)", table, re.M)
    }
    assert sorted(rows) == list(range(1, 17))
    assert rows[1] == ("0.0259", "0.3723") and rows[6] == ("0.0062", "0.4891")
    assert rows[11] == ("0.0015", "0.5460") and rows[16] == ("0.0003", "0.5738")


def r4(v):
    """Round nested lists to 4 decimals."""
    return [r4(e) for e in v] if isinstance(v, list) else round(v, 4)


def test_negnevitsky_xor_step():
    net = dp.Network.from_weights(
        [[[0.5, 0.4], [0.9, 1.0]], [[-1.2, 1.1]]], [[-0.8, 0.1], [-0.3]], "sigmoid"
    )
    rec = dp.explain(net, [1, 1], [0], learning_rate=0.1, loss="squared_error").as_dict()
    assert r4(rec["a"]) == [[0.5250, 0.8808], [0.5097]]  # y3, y4, y5
    assert r4(rec["deltas"]) == [[-0.0381, 0.0147], [0.1274]]  # −δ3, −δ4, −δ5 in the book
    # w13, w23 / w14, w24 and w35, w45 after the step; θ3, θ4, θ5 = 0.7962, −0.0985, 0.3127
    assert r4(rec["weights_after"]) == [[[0.5038, 0.4038], [0.8985, 0.9985]], [[-1.2067, 1.0888]]]
    assert r4(rec["biases_after"]) == [[-0.7962, 0.0985], [-0.3127]]
