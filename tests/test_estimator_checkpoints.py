"""The estimators honour a checkpoint folder: every epoch saved, built back, continued."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

import deltaprop as dp
from deltaprop.estimators import _base


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return x, np.array(["setosa", "versicolor", "virginica"])[y]


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def test_every_epoch_is_saved_and_the_estimator_comes_back(iris, tmp_path):
    x, y = iris
    est = dp.MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0,
                           checkpoint_dir=tmp_path)  # fmt: skip
    _quiet(est.fit, x, y)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch-00004.deltaprop", "epoch-00005.deltaprop"
    ]  # fmt: skip
    back = dp.MLPClassifier.from_checkpoint(tmp_path / "epoch-00005.deltaprop")
    assert back.get_params() == {**est.get_params(), "checkpoint_dir": None}
    np.testing.assert_array_equal(back.classes_, est.classes_)
    np.testing.assert_array_equal(back.predict_proba(x), est.predict_proba(x))
    assert list(back.predict(x[:3])) == list(est.predict(x[:3]))
    assert back.n_iter_ == 5 and back.t_ == est.t_
    assert back.loss_curve_ == est.loss_curve_
    assert back.history_.loss == est.history_.loss


def test_a_checkpoint_continues_like_the_run_in_memory(iris, tmp_path):
    x, y = iris
    settings = dict(hidden_layer_sizes=(6,), random_state=0, solver="momentum")
    memory = dp.MLPClassifier(max_iter=3, **settings)
    _quiet(memory.fit, x, y)
    _quiet(dp.MLPClassifier(max_iter=3, checkpoint_dir=tmp_path, **settings).fit, x, y)
    back = dp.MLPClassifier.from_checkpoint(tmp_path / "epoch-00003.deltaprop")
    for est in (memory, back):
        est.set_params(max_iter=2, warm_start=True)
        _quiet(est.fit, x, y)
    for a, b in zip(memory.coefs_ + memory.intercepts_, back.coefs_ + back.intercepts_,
                    strict=True):  # fmt: skip
        np.testing.assert_array_equal(a, b)
    for est in (memory, back):  # partial_fit continues with the saved optimizer state
        _quiet(est.partial_fit, x, y)
    np.testing.assert_array_equal(memory.coefs_[0], back.coefs_[0])


def test_regressor_and_multilabel_checkpoints(tmp_path):
    x, y = load_diabetes(return_X_y=True)
    reg = dp.MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=1,
                          checkpoint_dir=tmp_path / "reg")  # fmt: skip
    _quiet(reg.fit, x, y)
    back = dp.MLPRegressor.from_checkpoint(tmp_path / "reg" / "epoch-00003.deltaprop")
    np.testing.assert_array_equal(back.predict(x), reg.predict(x))
    labels = np.random.default_rng(0).integers(0, 2, size=(40, 3))
    xs = np.random.default_rng(1).normal(size=(40, 4))
    clf = dp.MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=1,
                           checkpoint_dir=tmp_path / "ml")  # fmt: skip
    _quiet(clf.fit, xs, labels)
    back = dp.MLPClassifier.from_checkpoint(tmp_path / "ml" / "epoch-00002.deltaprop")
    np.testing.assert_array_equal(back.predict(xs), clf.predict(xs))
    with pytest.raises(ValueError, match="not a checkpoint of a MLPClassifier"):
        dp.MLPClassifier.from_checkpoint(tmp_path / "reg" / "epoch-00003.deltaprop")
    plain = tmp_path / "plain.deltaprop"
    dp.save(plain, dp.Network.from_sizes([2, 2], "sigmoid", seed=0))
    with pytest.raises(ValueError, match="not a checkpoint"):
        dp.MLPRegressor.from_checkpoint(plain)


def test_ctrl_c_names_the_newest_checkpoint(iris, tmp_path, monkeypatch):
    x, y = iris
    real, calls = _base.run_epoch, []

    def interrupted_in_epoch_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_base, "run_epoch", interrupted_in_epoch_3)
    est = dp.MLPClassifier(hidden_layer_sizes=(4,), max_iter=10, random_state=0,
                           checkpoint_dir=tmp_path)  # fmt: skip
    with pytest.warns(UserWarning, match=r"interrupted by user; the run of epoch 2 is saved in"):
        est.fit(x, y)
    assert (tmp_path / "epoch-00002.deltaprop").exists()
    assert dp.MLPClassifier.from_checkpoint(tmp_path / "epoch-00002.deltaprop").n_iter_ == 2
