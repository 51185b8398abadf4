"""``deltaprop train / predict / evaluate``: real results, one-line errors with exit code 2."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import zipfile

import click
import numpy as np
import pytest
from click.testing import CliRunner

import deltaprop as dp
from deltaprop.cli import build_cli
from deltaprop.commands import _data, info, model, train

CLI = click.Group(  # the commands alone, as cli.py's group registers them
    "deltaprop",
    commands={c.name: c for c in model.COMMANDS + train.COMMANDS + info.COMMANDS},
    context_settings={"help_option_names": ["-h", "--help"]},
)


def run(*args, **kwargs):
    return CliRunner().invoke(CLI, [str(a) for a in args], **kwargs)


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def _csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


@pytest.fixture
def blobs(tmp_path):
    """Three well-separated blobs; the label column (text) sits between the features."""
    rng = np.random.default_rng(0)
    names = np.array(["red", "green", "blue"])
    y = np.arange(90) % 3
    x = rng.normal(scale=0.3, size=(90, 2)) + np.array([[0, 4], [4, 0], [-4, -4]])[y]
    x[:, 1] *= 1000  # a feature on another scale: standardisation must cope
    rows = [[repr(float(a)), n, repr(float(b))] for (a, b), n in zip(x, names[y], strict=True)]
    return _csv(tmp_path / "blobs.csv", ["f1", "color", "f2"], rows), x, names[y]


@pytest.fixture
def linear(tmp_path):
    """y = 3a − 2b + 1, a regression target."""
    rng = np.random.default_rng(1)
    ab = rng.uniform(-2, 2, size=(120, 2))
    y = 3 * ab[:, 0] - 2 * ab[:, 1] + 1
    rows = [[repr(float(v)) for v in (a, b, t)] for (a, b), t in zip(ab, y, strict=True)]
    return _csv(tmp_path / "linear.csv", ["a", "b", "y"], rows), ab, y


def test_classifier_on_a_csv_with_text_labels(blobs, tmp_path):
    path, x, labels = blobs
    out = tmp_path / "blobs.deltaprop"
    args = ["--target", "color", "--epochs", 30, "--lr", 0.05, "--validation", 0, "-o", out]
    result = ok("train", path, *args)
    assert result.stdout.startswith("saved blobs.deltaprop: 3 classes, 30 epochs, loss ")
    saved = dp.load(out)
    pre = saved.preprocessing
    assert pre.classes == ["blue", "green", "red"] and pre.feature_names == ["f1", "f2"]
    np.testing.assert_allclose(pre.x_mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(pre.x_scale, x.std(axis=0), rtol=1e-12)
    assert saved.metadata["task"] == "classification" and saved.history.epochs == 30

    predicted = ok("predict", out, path).stdout.splitlines()
    assert predicted == labels.tolist()  # separable blobs: every label right, by name

    metrics = json.loads(ok("evaluate", out, path, "--json").stdout)
    p = saved.predict_proba(x)
    t = np.searchsorted(pre.classes, labels)
    assert metrics["samples"] == 90 and metrics["accuracy"] == 1.0
    assert metrics["log_loss"] == pytest.approx(-np.mean(np.log(p[np.arange(90), t])))
    perfect = {"samples": 30, "correct": 30, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert metrics["classes"] == {c: perfect for c in pre.classes}
    assert metrics["confusion_matrix"] == [[30, 0, 0], [0, 30, 0], [0, 0, 30]]
    text = ok("evaluate", out, path).stdout
    assert "accuracy  1" in text and "class red: 30 samples, 30 correct" in text


def test_regressor_on_a_csv(linear, tmp_path):
    path, ab, y = linear
    out = tmp_path / "lin.deltaprop"
    ok(
        "train",
        path,
        "--hidden",
        "",
        "--epochs",
        150,
        "--lr",
        0.05,
        "--validation",
        0.2,
        "--dtype",
        "float64",
        "-o",
        out,
    )
    saved = dp.load(out)
    assert saved.preprocessing.task == "regression" and saved.network.sizes == [2, 1]
    predicted = np.array([float(v) for v in ok("predict", out, path).stdout.split()])
    assert predicted.tobytes() == saved.predict(ab).tobytes()  # printed digits round-trip
    np.testing.assert_allclose(predicted, y, atol=0.02)
    metrics = json.loads(ok("evaluate", out, path, "--json").stdout)
    assert metrics["samples"] == 120 and metrics["r2"] > 0.9999
    assert metrics["mse"] == pytest.approx(np.mean((predicted - y) ** 2))
    assert metrics["mae"] == pytest.approx(np.mean(np.abs(predicted - y)))


def test_builtin_dataset_and_output_file(tmp_path):
    out = tmp_path / "iris.deltaprop"
    ok("train", "iris", "--epochs", 40, "--lr", 0.02, "--hidden", "16", "-o", out, "-q")
    metrics = json.loads(ok("evaluate", out, "iris", "--json").stdout)
    assert metrics["accuracy"] > 0.9 and metrics["samples"] == 150
    names = dp.load(out).preprocessing.feature_names  # scikit-learn's names for iris's columns
    assert names == [f"{p} {d} (cm)" for p in ("sepal", "petal") for d in ("length", "width")]
    ok("predict", out, "iris", "--output", tmp_path / "pred.txt")
    lines = (tmp_path / "pred.txt").read_text().splitlines()
    assert len(lines) == 150 and set(lines) == {"0", "1", "2"}
    probs = ok("predict", out, "iris", "--probabilities").stdout.splitlines()
    assert probs[0] == "0,1,2"
    p = np.array([[float(v) for v in row.split(",")] for row in probs[1:]])
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    assert np.argmax(p, axis=1).astype(str).tolist() == lines


def test_whole_number_labels_print_as_whole_numbers(tmp_path):
    rng = np.random.default_rng(2)
    y = np.arange(60) % 2
    rows = [[f"{v:.4f}", int(t)] for v, t in zip(rng.normal(size=60) + 3 * y, y, strict=True)]
    path = _csv(tmp_path / "binary.csv", ["v", "label"], rows)
    ok("train", path, "--epochs", 5, "-o", tmp_path / "m", "-q")
    assert set(ok("predict", tmp_path / "m", path).stdout.split()) <= {"0", "1"}
    assert dp.load(tmp_path / "m").preprocessing.classes == [0, 1]


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (np.array(["a", "b"] * 5, dtype=object), "classification"),
        (np.arange(10) % 2, "classification"),  # two values: binary at any size
        (np.arange(100) % 5, "classification"),  # 5 values ≤ 5% of 100 rows
        (np.arange(40) % 3, "regression"),  # 3 values > max(2, 5% of 40 rows)
        (np.arange(1000) % 25, "regression"),  # more than 20 values
        (np.linspace(0, 1, 50), "regression"),  # not whole numbers
    ],
)
def test_task_rule(values, task):
    assert _data.infer_task(values) == task


def test_task_override(tmp_path):
    rows = [[i, i % 3] for i in range(40)]
    path = _csv(tmp_path / "small.csv", ["v", "k"], rows)
    ok("train", path, "--epochs", 1, "-o", tmp_path / "r", "-q")
    assert dp.load(tmp_path / "r").preprocessing.task == "regression"
    ok("train", path, "--epochs", 1, "-o", tmp_path / "c", "-q", "--task", "classification")
    assert dp.load(tmp_path / "c").preprocessing.classes == [0, 1, 2]


def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_path, monkeypatch):
    args = ["train", "iris", "--epochs", 3, "-o", tmp_path / "m", "--overwrite"]
    shown = run(*args, "--progress")
    assert "train: 100%" in shown.stderr and "3/3" in shown.stderr
    assert "val_loss=" in shown.stderr and "val_accuracy=" in shown.stderr
    plain = run(*args)
    assert plain.stderr == "" and plain.stdout.startswith("saved m: 3 classes, 3 epochs")
    quiet = run(*args, "--quiet", "--progress")
    assert quiet.stdout == quiet.stderr == ""
    monkeypatch.setattr(train, "_tty", lambda: True)
    assert "3/3" in run(*args).stderr
    assert run(*args, "--no-progress").stderr == ""


class Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def bad_files(tmp_path, blobs):
    path, _, _ = blobs
    d = tmp_path
    ok("train", path, "--target", "color", "--epochs", 1, "-o", d / "good.deltaprop", "-q")
    good = (d / "good.deltaprop").read_bytes()
    (d / "truncated.deltaprop").write_bytes(good[: len(good) // 2])
    with (
        zipfile.ZipFile(d / "good.deltaprop") as zf,
        zipfile.ZipFile(d / "evil.deltaprop", "w") as ev,
    ):
        for name in zf.namelist():
            ev.writestr(name, zf.read(name))
        ev.writestr("payload.pkl", pickle.dumps(Payload(d / "marker")))
    with (
        zipfile.ZipFile(d / "good.deltaprop") as zf,
        zipfile.ZipFile(d / "newer.deltaprop", "w") as nw,
    ):
        for name in zf.namelist():
            data = zf.read(name)
            if name == "deltaprop.json":
                data = data.replace(b'"format_version": 1', b'"format_version": 9')
            nw.writestr(name, data)
    _csv(d / "text.csv", ["a", "b", "label"], [[1, "red", "x"], [2, "blue", "y"]])
    _csv(d / "ragged.csv", ["a", "b", "label"], [[1, 2, "x"], [3, "y"]])
    _csv(d / "noheader.csv", ["1", "2", "3"], [[4, 5, 6]])
    _csv(d / "gap.csv", ["a", "b", "label"], [[1, "", "x"], [2, 3, "y"]])
    _csv(d / "one.csv", ["a", "label"], [[1, "x"], [2, "x"]])
    _csv(d / "other.csv", ["g", "h"], [[1, 2]])
    (d / "headeronly.csv").write_text("a,b,label\n")
    (d / "empty.csv").write_text("")
    (d / "binary.csv").write_bytes(b"\xff\xfe\x00\x81" * 50)
    return d, path


BAD_INPUTS = [
    (["train", "{d}/missing.csv"], "no such file, and not a built-in data set"),
    (["train", "mnist"], "not a built-in data set (breast-cancer, diabetes, digits"),
    (["train", "{d}/text.csv"], "column 'b' holds 'red', not a finite number"),
    (["train", "{d}/ragged.csv"], "line 3: 2 fields, but the header has 3"),
    (["train", "{d}/noheader.csv"], "the first line must be a header"),
    (["train", "{d}/gap.csv"], "column 'b' is empty (missing value)"),
    (["train", "{d}/empty.csv"], "empty file"),
    (["train", "{d}/headeronly.csv"], "has a header but no data rows"),
    (["train", "{d}/binary.csv"], "not a UTF-8 text (CSV) file"),
    (["train", "{d}/one.csv"], "single class ('x')"),
    (["train", "{blobs}", "--target", "size"], "no column 'size'; columns are f1, color, f2"),
    (["train", "{blobs}", "--target", "color", "--task", "regression"], "holds 'red'"),
    (["train", "iris", "--target", "species"], "--target applies to CSV files"),
    (["train", "iris", "--activation", "swish"], "unknown activation 'swish'"),
    (["train", "iris", "--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'"),
    (["train", "iris", "--hidden", "8,x"], "--hidden must be positive whole numbers"),
    (["train", "iris", "--lr", "-1"], "Invalid learning rate: -1.0"),
    (["train", "iris", "-o", "{d}/no/dir/m.deltaprop"], "directory"),
    (["train", "iris", "--epochs", "0"], "Invalid value for '--epochs'"),
    (["train", "iris", "--task", "ranking"], "Invalid value for '--task'"),
    (["train", "iris", "--frobnicate"], "No such option '--frobnicate'"),
    (["train"], "missing DATA"),
    (["predict", "{d}/absent.deltaprop", "iris"], "model file not found"),
    (["predict", "{d}/truncated.deltaprop", "iris"], "not a deltaprop model file"),
    (["predict", "{blobs}", "iris"], "not a deltaprop model file"),
    (["predict", "{d}/evil.deltaprop", "{blobs}"], "unexpected member 'payload.pkl'"),
    (["evaluate", "{d}/newer.deltaprop", "{blobs}"], "newer deltaprop (format version 9"),
    (["predict", "{d}/good.deltaprop", "iris"], "iris has 4 features; the model takes 2"),
    (["predict", "{d}/good.deltaprop", "{d}/other.csv"], "lacks the feature column(s) 'f1'"),
    (["evaluate", "{d}/good.deltaprop", "{d}/text.csv", "--target", "zz"], "lacks the feature"),
    (["predict", "{d}/good.deltaprop", "{blobs}", "-o", "{d}/no/dir/p.txt"], "No such file"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS, ids=lambda v: str(v)[:40])
def test_bad_input_is_one_line_and_exit_code_2(bad_files, args, message):
    d, blobs = bad_files
    result = run(*[a.format(d=d, blobs=blobs) for a in args])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # no exception escaped
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert not (d / "marker").exists()  # the pickle payload never ran


def test_evaluate_needs_known_targets_and_known_labels(bad_files):
    d, blobs = bad_files
    _csv(d / "features.csv", ["f1", "f2"], [[0, 4000], [4, 0]])
    result = run("evaluate", d / "good.deltaprop", d / "features.csv")
    assert result.exit_code == 2 and "no target column 'color'" in result.stderr
    _csv(d / "unseen.csv", ["f1", "f2", "color"], [[0, 4000, "red"], [4, 0, "mauve"]])
    result = run("evaluate", d / "good.deltaprop", d / "unseen.csv")
    assert (
        result.exit_code == 2 and "label 'mauve' is not one of the model's classes" in result.stderr
    )


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_divergence_is_one_line_and_exit_code_1(linear, tmp_path):
    path, _, _ = linear
    result = run("train", path, "--optimizer", "sgd", "--lr", 1e30, "-o", tmp_path / "m")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "training diverged" in lines[0]  # and no numpy warnings
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("command", ["train", "predict", "evaluate"])
def test_every_command_has_help(command):
    result = CliRunner().invoke(build_cli(), [command, "--help"], prog_name="deltaprop")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: deltaprop {command} [OPTIONS]")
    assert ("--epochs" in result.stdout) == (command == "train")


def test_model_from_python_api_works_on_the_command_line(tmp_path):
    x, y = dp.datasets.make_xor(8)
    net = dp.Network.from_sizes([2, 8, 2], ["tanh", "softmax"], seed=0)
    net.fit(x, y, optimizer="adam", learning_rate=0.05, epochs=200, batch_size=None)
    dp.save(tmp_path / "xor.deltaprop", net)
    assert ok("predict", tmp_path / "xor.deltaprop", "xor").stdout.split() == ["0", "1", "1", "0"]
    _csv(tmp_path / "xor.csv", ["p", "q", "r"], [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]])
    metrics = json.loads(
        ok("evaluate", tmp_path / "xor.deltaprop", tmp_path / "xor.csv", "--json").stdout
    )
    assert metrics["accuracy"] == 1.0


def test_real_process(tmp_path):
    def deltaprop(*args):
        cmd = [sys.executable, "-m", "deltaprop", *map(str, args)]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)

    trained = deltaprop("train", "moons", "--epochs", 30, "--lr", 0.02, "--seed", 3)
    assert trained.returncode == 0 and trained.stderr == ""  # no terminal: no progress bar
    assert trained.stdout.startswith("saved model.deltaprop: 2 classes, 30 epochs")
    scored = deltaprop("evaluate", "model.deltaprop", "moons", "--json")
    assert scored.returncode == 0 and json.loads(scored.stdout)["accuracy"] > 0.85
    bad = deltaprop("predict", "model.deltaprop", "nowhere.csv")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("Error: 'nowhere.csv': no such file")


@pytest.fixture
def overlapping(tmp_path):
    """Three overlapping blobs (no model gets them all right), a training and a test file."""
    rng = np.random.default_rng(5)

    def make(name, n):
        y = rng.integers(0, 3, n)
        x = rng.normal(scale=1.2, size=(n, 2)) + np.array([[0, 1.5], [1.5, 0], [-1, -1]])[y]
        labels = np.array(["ant", "bee", "cat"])[y]
        rows = [[repr(float(a)), repr(float(b)), c] for (a, b), c in zip(x, labels, strict=True)]
        return _csv(tmp_path / name, ["u", "v", "kind"], rows), x, labels

    return make("train.csv", 150), make("test.csv", 120)


def test_evaluate_scores_each_class_as_scikit_learn_does(overlapping, tmp_path):
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    (train_csv, _, _), (test_csv, x, labels) = overlapping
    out = tmp_path / "m.deltaprop"
    ok("train", train_csv, "--target", "kind", "--epochs", 15, "--lr", 0.01, "-o", out, "-q")
    result = run("evaluate", out, test_csv, "--json")
    assert result.exit_code == 0 and result.stderr == ""  # other data: no note
    metrics = json.loads(result.stdout)
    predicted = ok("predict", out, test_csv).stdout.split()
    classes = ["ant", "bee", "cat"]
    p, r, f, support = precision_recall_fscore_support(
        labels, predicted, labels=classes, zero_division=0
    )
    assert 0.3 < metrics["accuracy"] < 1.0  # overlapping: some wrong, so the scores differ
    for k, c in enumerate(classes):
        got = metrics["classes"][c]
        assert [got["precision"], got["recall"], got["f1"]] == pytest.approx([p[k], r[k], f[k]])
        assert got["samples"] == support[k]
    macro = precision_recall_fscore_support(labels, predicted, average="macro", zero_division=0)
    assert list(metrics["macro_avg"].values()) == pytest.approx(list(macro[:3]))
    C = confusion_matrix(labels, predicted, labels=classes)
    assert metrics["confusion_matrix"] == C.tolist()
    text = ok("evaluate", out, test_csv).stdout.splitlines()
    row = next(ln for ln in text if ln.startswith("bee "))
    assert row.split() == ["bee", f"{p[1]:.4f}", f"{r[1]:.4f}", f"{f[1]:.4f}", str(support[1])]
    assert text[-3].split() == ["ant", *map(str, C[0])]  # the confusion matrix, row by row
    assert text[-1].split() == ["cat", *map(str, C[2])]


def test_evaluate_says_when_it_scores_the_training_data(overlapping, tmp_path, monkeypatch):
    (train_csv, _, _), _ = overlapping
    monkeypatch.chdir(tmp_path)
    ok("train", "train.csv", "--target", "kind", "--epochs", 3, "-o", "m.deltaprop", "-q")
    rows = dp.load(tmp_path / "m.deltaprop").metadata["train_rows"]
    for data in ("train.csv", str(train_csv), "./train.csv"):  # the same file, however named
        result = run("evaluate", "m.deltaprop", data)
        assert result.exit_code == 0
        assert result.stderr == (
            f"note: {data} is the data m.deltaprop was trained on ({rows} of its rows trained "
            "on): these scores measure the fit, not how well it generalises\n"
        )
    ok("train", "iris", "--epochs", 2, "-o", "iris.deltaprop", "-q")
    assert (
        "is the data iris.deltaprop was trained on"
        in run("evaluate", "iris.deltaprop", "IRIS").stderr
    )
    assert run("evaluate", "iris.deltaprop", "wine").exit_code == 2  # another set: its own error


def test_info_summarises_a_model_file(tmp_path):
    out = tmp_path / "iris.deltaprop"
    args = ["--hidden", "8,5", "--optimizer", "momentum", "--lr", 0.05, "--seed", 4]
    ok("train", "iris", "--epochs", 12, *args, "-o", out, "-q")
    saved = dp.load(out)
    d = json.loads(ok("info", out, "--json").stdout)
    sizes = [ly.W.size + ly.b.size for ly in saved.network.layers]
    assert [ly["units"] for ly in d["layers"]] == [4, 8, 5, 3]
    assert [ly["parameters"] for ly in d["layers"]] == [0, *sizes] == [0, 40, 45, 18]
    assert d["parameters"] == 103 and d["epochs"] == 12
    assert d["optimizer"] == {"name": saved.optimizer.name, **saved.optimizer.hyperparameters()}
    assert d["optimizer"]["learning_rate"] == 0.05 and d["optimizer"]["momentum"] > 0
    assert d["final"]["loss"] == saved.history.loss[-1]
    assert d["final"]["val_accuracy"] == saved.history.val_accuracy[-1]
    assert d["preprocessing"]["classes"] == ["0", "1", "2"]
    assert d["data"] == {"data": "iris", "train_rows": 135, "seed": 4, "task": "classification"}
    text = ok("info", out).stdout
    assert "parameters  103 in total" in text and "epochs      12" in text
    assert "data        iris (135 rows trained on, seed 4)" in text
    assert [ln.split() for ln in text.splitlines()[2:6]] == [
        ["0", "4", "input"], ["1", "8", "relu", "32", "8", "40"],
        ["2", "5", "relu", "40", "5", "45"], ["3", "3", "softmax", "15", "3", "18"],
    ]  # fmt: skip


def test_info_of_a_model_saved_from_python_and_of_a_bad_file(tmp_path):
    net = dp.Network.from_sizes([3, 2], ["sigmoid"], seed=0)
    dp.save(tmp_path / "plain.deltaprop", net)
    d = json.loads(ok("info", tmp_path / "plain.deltaprop", "--json").stdout)
    assert d["parameters"] == 8 and d["epochs"] == 0 and d["data"] is None
    (tmp_path / "junk.deltaprop").write_bytes(b"not a model")
    result = run("info", tmp_path / "junk.deltaprop")
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1
