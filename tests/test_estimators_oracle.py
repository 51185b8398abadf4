"""deltaprop's estimators against scikit-learn's own MLPClassifier/MLPRegressor as the oracle.

Where the arithmetic is the same, the results must be the same to ~1e-10: one epoch from injected
weights; whole fits from the same ``random_state`` (our initialisation and shuffling draw from the
generator as scikit-learn's do) under sgd with momentum, learning-rate schedules, L2, early
stopping, warm starts and partial fits. Where it differs by design (Adam's ε, L-BFGS line search
rounding) the results must be close; on real data sets, accuracy and R² must match.
"""

import warnings

import numpy as np
import pytest
from sklearn import neural_network as sk
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from deltaprop.estimators import MLPClassifier, MLPRegressor


def _scaled(X):
    return StandardScaler().fit_transform(X)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return _scaled(X), y


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return _scaled(X), (y - y.mean()) / y.std()


def assert_same_weights(ours, theirs, atol=1e-10):
    pairs = zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True)
    for a, b in pairs:
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


def _pair(kind, **params):
    ours = {"clf": MLPClassifier, "reg": MLPRegressor}[kind](**params)
    theirs = {"clf": sk.MLPClassifier, "reg": sk.MLPRegressor}[kind](**params)
    return ours, theirs


def _quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


ONE_EPOCH = dict(
    solver="sgd",
    momentum=0.0,
    learning_rate="constant",
    learning_rate_init=0.1,
    shuffle=False,
    batch_size=32,  # 150 and 442 samples: the last batch is smaller
    max_iter=1,
    random_state=0,
)


def _injected_epoch(kind, X, y, sample_weight=None, **params):
    """Both estimators, initialised by a 1-epoch fit, set to the same random weights, then one
    ``partial_fit`` epoch."""
    ours, theirs = _pair(kind, **{**ONE_EPOCH, **params})
    rng = np.random.default_rng(7)
    for est in (ours, theirs):
        _quiet_fit(est, X, y)
    coefs = [rng.normal(0, 0.5, c.shape) for c in theirs.coefs_]
    intercepts = [rng.normal(0, 0.5, b.shape) for b in theirs.intercepts_]
    theirs.coefs_ = [c.copy() for c in coefs]
    theirs.intercepts_ = [b.copy() for b in intercepts]
    ours.coefs_, ours.intercepts_ = coefs, intercepts
    assert_same_weights(ours, theirs, atol=0)
    ours.partial_fit(X, y, sample_weight=sample_weight)
    theirs.partial_fit(X, y, sample_weight=sample_weight)
    return ours, theirs


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("hidden", [(9,), (6, 5)])
def test_one_epoch_regressor_equals_sklearn(diabetes, alpha, hidden):
    X, y = diabetes
    ours, theirs = _injected_epoch("reg", X, y, alpha=alpha, hidden_layer_sizes=hidden)
    assert_same_weights(ours, theirs)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)
    assert ours.t_ == theirs.t_ == 2 * X.shape[0]


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_one_epoch_multiclass_classifier_equals_sklearn(iris, alpha, activation):
    X, y = iris
    ours, theirs = _injected_epoch(
        "clf", X, y, alpha=alpha, activation=activation, hidden_layer_sizes=(8, 7)
    )
    assert ours.out_activation_ == theirs.out_activation_ == "softmax"
    assert_same_weights(ours, theirs)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)


def test_one_epoch_binary_and_multilabel_equal_sklearn(iris):
    X, y = iris
    binary = np.array(["no", "yes"])[(y == 2).astype(int)]
    ours, theirs = _injected_epoch("clf", X, binary, alpha=0.1, hidden_layer_sizes=(5,))
    assert ours.out_activation_ == theirs.out_activation_ == "logistic"
    assert_same_weights(ours, theirs)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)
    Xm, Ym = make_multilabel_classification(n_samples=120, n_features=6, random_state=0)
    ours, theirs = _injected_epoch("clf", _scaled(Xm), Ym, alpha=0.1, hidden_layer_sizes=(5,))
    assert_same_weights(ours, theirs)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)


def test_one_epoch_multioutput_and_poisson_equal_sklearn(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, -y, 0.5 * y])
    ours, theirs = _injected_epoch("reg", X, Y, alpha=0.1, hidden_layer_sizes=(5,))
    assert_same_weights(ours, theirs)
    # scikit-learn reports ½·mean over the outputs while training on the gradient of the sum
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)
    counts = np.round(np.exp(y))
    ours, theirs = _injected_epoch(
        "reg", X, counts, loss="poisson", hidden_layer_sizes=(5,), learning_rate_init=0.01
    )
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    assert_same_weights(ours, theirs)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-10)


def test_one_epoch_with_sample_weight_equals_sklearn(iris, diabetes):
    X, y = iris
    w = np.random.default_rng(3).integers(0, 4, X.shape[0]).astype(float)
    ours, theirs = _injected_epoch("clf", X, y, sample_weight=w, alpha=0.2, hidden_layer_sizes=(6,))
    assert_same_weights(ours, theirs)
    X, y = diabetes
    w = np.random.default_rng(4).uniform(0.1, 3, X.shape[0])
    ours, theirs = _injected_epoch("reg", X, y, sample_weight=w, alpha=0.2, hidden_layer_sizes=(6,))
    assert_same_weights(ours, theirs)


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("nesterov", [True, False])
def test_whole_sgd_fit_equals_sklearn(diabetes, schedule, nesterov):
    """Same random_state: same initial weights, same shuffles, same steps — and a learning rate
    that changes between epochs (invscaling, adaptive) under momentum."""
    X, y = diabetes
    ours, theirs = _pair(
        "reg",
        solver="sgd",
        learning_rate=schedule,
        nesterovs_momentum=nesterov,
        learning_rate_init=0.02,
        power_t=0.25,
        batch_size=40,
        alpha=0.05,
        hidden_layer_sizes=(8,),
        max_iter=40,
        tol=1e-3,
        n_iter_no_change=2,
        random_state=5,
    )
    _quiet_fit(ours, X, y)
    _quiet_fit(theirs, X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-11)
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-11)
    assert_same_weights(ours, theirs)


def test_adaptive_schedule_really_reduced_the_learning_rate(diabetes):
    """The adaptive case above is only a test of η changes if η changed: it divides by 5."""
    X, y = diabetes
    est = MLPRegressor(
        solver="sgd", learning_rate="adaptive", learning_rate_init=0.02, batch_size=40, alpha=0.05,
        hidden_layer_sizes=(8,), max_iter=40, tol=1e-3, n_iter_no_change=2, random_state=5,
    )  # fmt: skip
    _quiet_fit(est, X, y)
    rates = est.history_.learning_rate
    assert rates[0] == 0.02 and min(rates) <= 0.02 / 5**2


def test_early_stopping_equals_sklearn():
    X, y = load_breast_cancer(return_X_y=True)
    X = _scaled(X)
    ours, theirs = _pair(
        "clf",
        solver="sgd",
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        tol=1e-3,
        hidden_layer_sizes=(6,),
        learning_rate_init=0.05,
        max_iter=60,
        random_state=2,
    )
    _quiet_fit(ours, X, y)
    _quiet_fit(theirs, X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 60
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=0)
    assert ours.best_validation_score_ == theirs.best_validation_score_
    assert ours.best_loss_ is None and theirs.best_loss_ is None
    assert_same_weights(ours, theirs)  # both restored the best epoch's weights


def test_warm_start_and_partial_fit_sequences_equal_sklearn(iris):
    X, y = iris
    params = dict(
        solver="sgd", hidden_layer_sizes=(7,), learning_rate_init=0.05, batch_size=50,
        max_iter=4, random_state=1, warm_start=True,
    )  # fmt: skip
    ours, theirs = _pair("clf", **params)
    for _ in range(3):
        _quiet_fit(ours, X, y)
        _quiet_fit(theirs, X, y)
    assert len(ours.loss_curve_) == len(theirs.loss_curve_) == 12
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-11)
    assert_same_weights(ours, theirs)
    ours, theirs = _pair("clf", **{**params, "warm_start": False})
    for _ in range(3):
        ours.partial_fit(X, y, classes=[0, 1, 2])
        theirs.partial_fit(X, y, classes=[0, 1, 2])
    assert ours.n_iter_ == theirs.n_iter_ == 1
    assert ours.t_ == theirs.t_ == 3 * X.shape[0]
    assert_same_weights(ours, theirs)


def test_adam_is_close_to_sklearn(iris):
    """PyTorch's Adam adds ε after bias correction, scikit-learn's before: tiny differences."""
    X, y = iris
    ours, theirs = _pair("clf", hidden_layer_sizes=(10,), max_iter=60, random_state=0)
    _quiet_fit(ours, X, y)
    _quiet_fit(theirs, X, y)
    assert_same_weights(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    assert np.array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_lbfgs_is_close_to_sklearn(iris, diabetes, kind):
    X, y = iris if kind == "clf" else diabetes
    ours, theirs = _pair(kind, solver="lbfgs", hidden_layer_sizes=(6,), max_iter=25, random_state=0)
    _quiet_fit(ours, X, y)
    _quiet_fit(theirs, X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-6)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-5)


SMALL_NET = dict(learning_rate_init=0.01, alpha=1e-3, random_state=0)
DATASETS = {
    "iris": (load_iris, "clf", dict(hidden_layer_sizes=(20,), max_iter=200)),
    "breast_cancer": (load_breast_cancer, "clf", dict(hidden_layer_sizes=(20,), max_iter=100)),
    "digits": (load_digits, "clf", dict(hidden_layer_sizes=(50,), max_iter=40)),
    "diabetes": (load_diabetes, "reg", dict(hidden_layer_sizes=(10,), alpha=10.0)),
}


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_held_out_scores_match_sklearn(name, solver):
    load, kind, params = DATASETS[name]
    X, y = load(return_X_y=True)
    if kind == "reg":
        y = (y - y.mean()) / y.std()
    X_train, X_test, y_train, y_test = train_test_split(
        _scaled(X), y, test_size=0.3, random_state=0
    )
    ours, theirs = _pair(kind, solver=solver, **{**SMALL_NET, **params})
    _quiet_fit(ours, X_train, y_train)
    _quiet_fit(theirs, X_train, y_train)
    ours_score, their_score = ours.score(X_test, y_test), theirs.score(X_test, y_test)
    assert ours_score > (0.94 if kind == "clf" else 0.35)
    assert abs(ours_score - their_score) <= (0.02 if kind == "clf" else 0.03)
