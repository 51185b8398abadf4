"""The main job: a worked solution of one training step by hand, then a small network trained on
scikit-learn's digits, and what it learned."""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import deltaprop as dp


def worked_solution() -> None:
    """Every number of one training step of the tutorial's 1-1-1 network (deltaprop explain)."""
    spec = dp.load_spec(Path(__file__).with_name("seed001.toml"))
    print(spec.explain(steps=1).to_text())
    print("(the same as: deltaprop explain examples/seed001.toml; --format html for a page)\n")


def main() -> None:
    worked_solution()
    digits = load_digits()
    x = digits.data / 16.0
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    net = dp.Network.from_sizes([64, 64, 10], ["relu", "softmax"], seed=0)
    print(net)
    history = net.fit(
        x_train,
        y_train,
        optimizer="adam",
        learning_rate=0.01,
        epochs=30,
        batch_size=32,
        seed=0,
        validation_data=(x_test, y_test),
    )
    for e in range(0, history.epochs, 5):
        norms = ", ".join(f"{g:.3f}" for g in history.layer_grad_norms[e])
        print(
            f"epoch {e + 1:>3}  loss {history.loss[e]:.4f}  val_loss {history.val_loss[e]:.4f}  "
            f"val_acc {history.val_accuracy[e]:.3f}  |grad| per layer [{norms}]"
        )
    accuracy = np.mean(net.predict(x_test).argmax(axis=1) == y_test)
    print(f"test accuracy on {len(y_test)} held-out digits: {accuracy:.3f}")
    report = Path(__file__).resolve().parents[1] / "build" / "demo-report.html"
    report.parent.mkdir(exist_ok=True)
    dp.report(net, history, x_test, y_test, path=report, title="deltaprop demo: digits",
              settings={"optimizer": "adam", "learning rate": 0.01, "epochs": 30,
                        "batch size": 32, "hidden": "64 relu"})  # fmt: skip
    print(f"training report (open it in a browser): {report}")


if __name__ == "__main__":
    main()
