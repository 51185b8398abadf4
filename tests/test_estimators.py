"""MLPClassifier and MLPRegressor: scikit-learn tooling, targets, weights, incremental fitting,
float32, the history, explain, and what deltaprop adds (solvers, per-layer activations)."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import deltaprop
from deltaprop import History, Network
from deltaprop.estimators import MLPClassifier, MLPRegressor
from deltaprop.estimators._params import SOLVERS


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def quiet(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def weights_of(est):
    return [a.copy() for a in est.coefs_ + est.intercepts_]


def assert_weights_close(a, b, atol=1e-12):
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, rtol=0, atol=atol)


# --- scikit-learn tooling ------------------------------------------------------------------------


def test_pipeline_grid_search_and_cross_val_score(iris):
    X, y = load_iris(return_X_y=True)  # unscaled: the pipeline scales
    pipe = Pipeline(
        [("scale", StandardScaler()), ("mlp", MLPClassifier((10,), max_iter=200, random_state=0))]
    )
    grid = GridSearchCV(
        pipe,
        {"mlp__solver": ["lbfgs", "rmsprop"], "mlp__alpha": [1e-4, 1.0]},
        cv=3,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
        scores = cross_val_score(
            make_pipeline(
                StandardScaler(),
                MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0),
            ),
            *load_diabetes(return_X_y=True),
            cv=3,
        )
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_params_["mlp__solver"] in ("lbfgs", "rmsprop")
    assert grid.best_score_ > 0.9
    assert grid.score(X, y) > 0.9
    assert scores.shape == (3,) and (scores > 0.2).all()


def test_clone_keeps_parameters_and_drops_fitted_state(iris):
    X, y = iris
    est = quiet(
        MLPClassifier((4, 3), activation=["tanh", "relu"], solver="adamw", max_iter=5), X, y
    )
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert not hasattr(twin, "network_") and not hasattr(twin, "coefs_")


def test_pickle_round_trip_predicts_identically_and_carries_no_buffers(iris):
    X, y = iris
    X_big = np.repeat(X, 40, axis=0)  # 6000 samples in one batch: big training buffers
    est = quiet(
        MLPClassifier((5,), batch_size=6000, max_iter=3, random_state=0), X_big, y.repeat(40)
    )
    blob = pickle.dumps(est)
    back = pickle.loads(blob)
    assert np.array_equal(back.predict_proba(X), est.predict_proba(X))
    assert back.loss_curve_ == est.loss_curve_ and back.history_.loss == est.history_.loss
    assert len(blob) < 20_000  # the 6000-row training buffers are not pickled


# --- targets -------------------------------------------------------------------------------------


def test_multilabel_indicator_targets():
    X, Y = make_multilabel_classification(n_samples=200, n_features=8, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    est = quiet(MLPClassifier((20,), solver="lbfgs", random_state=0), X, Y)
    assert est.out_activation_ == "logistic" and est.n_outputs_ == 4
    assert est.classes_.tolist() == [0, 1, 2, 3]
    pred, proba = est.predict(X), est.predict_proba(X)
    assert pred.shape == proba.shape == (200, 4)
    assert np.array_equal(pred, (proba > 0.5).astype(int))
    assert (pred == Y).mean() > 0.9


def test_binary_string_labels_and_probabilities(iris):
    X, y = iris
    labels = np.where(y == 0, "setosa", "other")
    est = quiet(MLPClassifier((5,), solver="lbfgs", random_state=0), X, labels)
    assert est.classes_.tolist() == ["other", "setosa"] and est.n_outputs_ == 1
    proba = est.predict_proba(X)
    assert proba.shape == (150, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba))
    assert np.array_equal(est.predict(X), est.classes_[proba.argmax(axis=1)])
    assert est.score(X, labels) == 1.0


def test_multi_output_regression_reports_half_mean_squared_error(diabetes):
    """scikit-learn's loss_ averages the ½ squared error over outputs; with lbfgs and alpha = 0
    the final loss_ is the objective at the final weights, so it is recomputable exactly."""
    X, y = diabetes
    Y = np.column_stack([y, y**2, -y])
    est = quiet(
        MLPRegressor(
            hidden_layer_sizes=(10,), solver="lbfgs", alpha=0.0, max_iter=50, random_state=0
        ),
        X,
        Y,
    )
    pred = est.predict(X)
    assert pred.shape == (442, 3) and est.n_outputs_ == 3
    assert est.loss_ == pytest.approx(0.5 * np.mean((pred - Y) ** 2), rel=1e-10)
    assert est.loss_curve_[-1] == est.loss_ == est.best_loss_


# --- sample weights ------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Got `batch_size`")  # 1000 > n on purpose: one batch
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_weight_two_trains_as_the_sample_given_twice(iris, solver):
    """Full batches, alpha > 0: the L2 term is α/(2 Σw), so it matches duplication too."""
    X, y = iris
    w = np.random.default_rng(0).integers(0, 3, len(y))  # 0: removed, 2: duplicated
    params = dict(hidden_layer_sizes=(6,), solver=solver, alpha=0.5, batch_size=1000, max_iter=20)
    weighted = quiet(MLPClassifier(random_state=0, **params), X, y, sample_weight=w)
    repeated = quiet(MLPClassifier(random_state=0, **params), X.repeat(w, 0), y.repeat(w))
    assert_weights_close(weights_of(weighted), weights_of(repeated), atol=1e-9)
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-9)


def test_sample_weight_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match="sums to zero"):
        MLPClassifier(max_iter=1).fit(X, y, sample_weight=np.zeros(150))
    with pytest.raises(ValueError, match="non-negative"):
        MLPClassifier(max_iter=1).fit(X, y, sample_weight=-np.ones(150))
    with pytest.raises(ValueError, match="shape"):
        MLPClassifier(max_iter=1).fit(X, y, sample_weight=np.ones(3))


# --- partial_fit and warm_start ------------------------------------------------------------------


def test_partial_fit_classes(iris):
    X, y = iris
    est = MLPClassifier((5,), solver="sgd", random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X, y)
    first = y < 2  # the first batch lacks class 2
    est.partial_fit(X[first], y[first], classes=[0, 1, 2])
    assert est.classes_.tolist() == [0, 1, 2] and est.out_activation_ == "softmax"
    assert est.predict_proba(X).shape == (150, 3)
    est.partial_fit(X, y)
    assert est.n_iter_ == 1 and est.t_ == first.sum() + 150
    assert len(est.loss_curve_) == 2
    with pytest.raises(ValueError, match="not in `self.classes_`"):
        est.partial_fit(X, np.where(y == 2, 7, y))
    with pytest.raises(ValueError, match="not the same as on last call"):
        est.partial_fit(X, y, classes=[0, 1])


def test_partial_fit_continues_where_fit_stopped(diabetes):
    X, y = diabetes
    est = quiet(
        MLPRegressor(hidden_layer_sizes=(6,), solver="sgd", max_iter=3, random_state=0), X, y
    )
    before = weights_of(est)
    est.partial_fit(X, y)
    assert est.n_iter_ == 1 and est.t_ == 4 * len(y) and len(est.loss_curve_) == 4
    assert any(not np.allclose(a, b) for a, b in zip(before, weights_of(est), strict=True))


def test_partial_fit_is_absent_for_lbfgs_and_refuses_early_stopping(iris):
    X, y = iris
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPRegressor(solver="adagrad"), "partial_fit")
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


def test_warm_start_continues_and_cold_start_restarts(iris):
    X, y = iris
    warm = quiet(MLPClassifier((5,), max_iter=10, warm_start=True, random_state=0), X, y)
    after_first = weights_of(warm)
    quiet(warm, X, y)
    assert len(warm.loss_curve_) == len(warm.history_.loss) == 20
    assert warm.loss_curve_[10] < warm.loss_curve_[0]  # started from the trained weights
    cold = quiet(MLPClassifier((5,), max_iter=10, random_state=0), X, y)
    assert_weights_close(weights_of(cold), after_first, atol=0)
    quiet(cold, X, y)
    assert len(cold.loss_curve_) == 10
    assert_weights_close(weights_of(cold), after_first, atol=0)  # same seed, same fit
    with pytest.raises(ValueError, match="same classes"):
        warm.fit(X[y < 2], y[y < 2])


# --- stopping ------------------------------------------------------------------------------------


def test_convergence_warning_and_tol_stopping(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(5\\)") as caught:
        MLPClassifier((5,), max_iter=5, random_state=0).fit(X, y)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MLPClassifier((5,), max_iter=500, tol=0.5, n_iter_no_change=2, random_state=0)
        est.fit(X, y)
    # the first epoch improves on +inf; the next three do not improve by 0.5: 3 > n_iter_no_change
    assert est.n_iter_ == 4
    assert est.best_loss_ == min(est.loss_curve_)


def test_early_stopping_keeps_the_best_epoch_on_a_stratified_split(iris):
    """The held-out split is reproducible: the initialisation draws from the same generator
    first, then train_test_split(stratify=y). The restored model scores the best score on it."""
    X, y = iris
    est = MLPClassifier(
        (6,), solver="sgd", learning_rate_init=0.2, early_stopping=True, validation_fraction=0.2,
        n_iter_no_change=4, max_iter=200, random_state=0,
    )  # fmt: skip
    est.fit(X, y)
    rs = np.random.RandomState(0)
    for fan_in, fan_out in ((4, 6), (6, 3)):
        rs.uniform(size=(fan_in, fan_out)), rs.uniform(size=fan_out)
    _, held = train_test_split(np.arange(150), random_state=rs, test_size=0.2, stratify=y)
    assert np.bincount(y[held]).tolist() == [10, 10, 10]
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.score(X[held], y[held]) == est.best_validation_score_
    assert est.best_loss_ is None and est.n_iter_ < 200
    h = est.history_
    assert h.val_accuracy == est.validation_scores_
    assert h.val_accuracy[h.best_epoch] == est.best_validation_score_
    assert len(h.val_loss) == len(h.loss) == est.n_iter_


# --- beyond scikit-learn -------------------------------------------------------------------------


SOLVER_RATES = {"adadelta": 1.0, "adagrad": 0.1, "lbfgs": 0.001}


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_learns_iris(iris, solver):
    X, y = iris
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    lr = SOLVER_RATES.get(solver, 0.01)
    est = quiet(
        MLPClassifier((10,), solver=solver, learning_rate_init=lr, max_iter=150, random_state=0),
        X_train,
        y_train,
    )
    assert est.score(X_test, y_test) >= 0.89


def test_solver_params_reach_the_optimizer(iris):
    X, y = iris
    norms = []
    for decay in (0.0, 0.5):
        est = MLPClassifier((10,), solver="adamw", solver_params={"weight_decay": decay},
                            learning_rate_init=0.01, max_iter=60, random_state=0)  # fmt: skip
        quiet(est, X, y)
        norms.append(sum(np.sum(c**2) for c in est.coefs_))
    assert norms[1] < 0.8 * norms[0]  # decoupled decay shrank the weights
    with pytest.raises(ValueError, match="bad settings for optimizer 'rmsprop'"):
        MLPClassifier(solver="rmsprop", solver_params={"nope": 1}).fit(X, y)


def test_per_layer_activations_and_their_initialisation(iris):
    X, y = iris
    est = quiet(
        MLPClassifier((8, 6), activation=["logistic", "elu"], max_iter=1, random_state=0), X, y
    )
    assert [ly.activation.name for ly in est.network_.layers] == ["sigmoid", "elu", "softmax"]
    assert est.n_layers_ == 4 and [c.shape for c in est.coefs_] == [(4, 8), (8, 6), (6, 3)]
    with pytest.raises(ValueError, match="2 entries, expected one per hidden layer \\(3\\)"):
        MLPClassifier((4, 4, 4), activation=["relu", "tanh"]).fit(X, y)
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        MLPClassifier((4,), activation="swishy").fit(X, y)


def test_float32_end_to_end(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(10,), learning_rate_init=0.01, max_iter=100, random_state=0)
    e32 = quiet(MLPClassifier(dtype="float32", **params), X, y)
    e64 = quiet(MLPClassifier(**params), X, y)
    assert e32.network_.dtype == np.float32
    assert all(c.dtype == np.float32 for c in e32.coefs_ + e32.intercepts_)
    p32 = e32.predict_proba(X)
    assert p32.dtype == np.float32
    p64 = e64.predict_proba(X)
    np.testing.assert_allclose(p32, p64, atol=1e-4)  # float32 rounding over 100 epochs: ~1e-7
    # Where float64's two likeliest classes are further apart than twice that tolerance, float32
    # must pick the same class; only the other rows may differ, and bound the accuracy gap.
    top2 = np.sort(p64, axis=1)[:, -2:]
    decided = top2[:, 1] - top2[:, 0] > 2e-4
    assert decided.mean() > 0.9  # the check below is not vacuous
    np.testing.assert_array_equal(e32.predict(X)[decided], e64.predict(X)[decided])
    assert abs(e32.score(X, y) - e64.score(X, y)) <= np.mean(~decided)
    assert e32.score(X, y) > 0.95
    back = pickle.loads(pickle.dumps(e32))
    assert back.predict_proba(X).dtype == np.float32
    r32 = quiet(
        MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", dtype="float32", random_state=0),
        X,
        y * 1.0,
    )
    assert r32.predict(X).dtype == np.float32 and r32.score(X, y) > 0.9


@pytest.mark.filterwarnings("ignore:Got `batch_size`")
def test_history_records_losses_and_true_gradient_norms(diabetes):
    """One full-batch epoch of plain gradient descent moves each layer by η·∂E/∂θ, so the
    recorded per-layer gradient norm must equal ‖Δθˡ‖/η."""
    X, y = diabetes
    est = MLPRegressor(
        hidden_layer_sizes=(7, 5), solver="sgd", momentum=0.0, learning_rate_init=0.05, alpha=0.1,
        batch_size=1000, max_iter=1, random_state=0,
    )  # fmt: skip
    quiet(est, X, y)
    before = [(c.copy(), b.copy()) for c, b in zip(est.coefs_, est.intercepts_, strict=True)]
    est.partial_fit(X, y)
    h = est.history_
    assert isinstance(h, History) and h.loss == est.loss_curve_ and h.epochs == 2
    for (c0, b0), c1, b1, g in zip(
        before, est.coefs_, est.intercepts_, h.layer_grad_norms[-1], strict=True
    ):
        moved = np.sqrt(np.sum((c1 - c0) ** 2) + np.sum((b1 - b0) ** 2))
        assert g == pytest.approx(moved / 0.05, rel=1e-10)
    assert h.grad_norm[-1] == pytest.approx(np.linalg.norm(h.layer_grad_norms[-1]), rel=1e-12)
    assert len(h.layer_delta_norms[-1]) == 3 and h.updates == 2
    assert h.learning_rate == [0.05, 0.05]


def test_invscaling_learning_rate_follows_samples_seen(diabetes):
    X, y = diabetes
    est = MLPRegressor(
        hidden_layer_sizes=(4,), solver="sgd", learning_rate="invscaling", power_t=0.5,
        learning_rate_init=0.1, max_iter=4, random_state=0,
    )  # fmt: skip
    quiet(est, X, y)
    expected = [0.1] + [0.1 / (k * 442 + 1) ** 0.5 for k in (1, 2, 3)]
    np.testing.assert_allclose(est.history_.learning_rate, expected, rtol=1e-15)


def test_explain_traces_the_fitted_network(iris):
    X, y = iris
    est = quiet(MLPClassifier((4,), solver="sgd", learning_rate_init=0.3, max_iter=5,
                              random_state=0), X, y)  # fmt: skip
    before = weights_of(est)
    trace = est.explain(X[:3], y[:3])
    step = trace.steps[0]
    assert trace.learning_rate == 0.3 and trace.loss.name == "cross_entropy"
    np.testing.assert_allclose(step.W[0], est.coefs_[0].T)
    np.testing.assert_allclose(step.output, est.predict_proba(X[:3]))
    assert step.loss == pytest.approx(log_loss(y[:3], est.predict_proba(X[:3]), labels=[0, 1, 2]))
    assert_weights_close(before, weights_of(est), atol=0)  # the estimator is left as it was
    reg = quiet(MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", random_state=0), X, y * 1.0)
    rtrace = reg.explain(X[:2], y[:2] * 1.0, steps=2)
    assert len(rtrace.steps) == 2 and rtrace.optimizer.name == "sgd"
    np.testing.assert_allclose(rtrace.steps[0].output.ravel(), reg.predict(X[:2]))


def test_network_and_coefs_are_one_state(iris):
    X, y = iris
    est = quiet(MLPClassifier((5,), max_iter=20, random_state=0), X, y)
    assert isinstance(est.network_, Network) and est.network_.sizes == [4, 5, 3]
    np.testing.assert_array_equal(est.coefs_[1], est.network_.layers[1].W.T)
    est.coefs_[0][:] = 0.0  # a view: zeroing it silences the hidden layer
    assert np.allclose(est.predict_proba(X), est.predict_proba(X[:1]))
    est.intercepts_ = [np.zeros(5), np.array([0.0, 5.0, 0.0])]
    assert (est.predict(X) == 1).all()
    with pytest.raises(ValueError, match="shape"):
        est.coefs_ = [np.zeros((3, 5)), np.zeros((5, 3))]


def test_sparse_input_trains_as_dense(iris):
    X, y = iris
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.5] = 0.0
    for solver in ("sgd", "lbfgs"):
        params = dict(hidden_layer_sizes=(6,), solver=solver, batch_size=40, max_iter=10)
        dense = quiet(MLPClassifier(random_state=0, **params), Xs, y)
        sparse = quiet(MLPClassifier(random_state=0, **params), sp.csr_array(Xs), y)
        assert_weights_close(weights_of(dense), weights_of(sparse), atol=1e-12)
        np.testing.assert_allclose(sparse.predict_proba(sp.csc_matrix(Xs)), dense.predict_proba(Xs))


def test_verbose_prints_progress(iris, capsys):
    X, y = iris
    quiet(MLPClassifier((3,), max_iter=2, verbose=True), X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Iteration 2, loss = " in out


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(solver="newton"), "solver must be one of lbfgs, sgd, adam, momentum"),
        (dict(learning_rate="cyclic"), "learning_rate must be one of constant"),
        (dict(hidden_layer_sizes=(3, 0)), "hidden_layer_sizes must be > 0"),
        (dict(alpha=-1.0), "Invalid alpha: -1.0"),
        (dict(batch_size="big"), "batch_size must be 'auto' or an int"),
        (dict(momentum=1.5), "Invalid momentum: 1.5"),
        (dict(beta_2=1.0), "Invalid beta_2: 1.0"),
        (dict(dtype="float16"), "dtype must be float32 or float64"),
        (dict(solver="nesterov", momentum=0.0), "Nesterov momentum requires a momentum > 0"),
        (dict(early_stopping=True, validation_fraction=0.01), "could not hold out a validation"),
    ],
)
def test_bad_parameters_are_named(iris, params, message):
    X, y = iris
    with pytest.raises(ValueError, match=message):
        MLPClassifier(max_iter=1, **params).fit(X, y)


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_regression_specific_errors(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="loss must be 'squared_error' or 'poisson'"):
        MLPRegressor(loss="huber").fit(X, y)
    with pytest.raises(ValueError, match="requires non-negative y"):
        MLPRegressor(loss="poisson").fit(X, y)
    est = MLPRegressor(hidden_layer_sizes=(3,), solver="sgd", max_iter=1).partial_fit(X, y)
    with pytest.raises(ValueError, match="y has 2 outputs, the fitted model 1"):
        est.partial_fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="Solver diverged: the training loss became (inf|nan)"):
        quiet(
            MLPRegressor(
                hidden_layer_sizes=(3,), solver="sgd", learning_rate_init=10.0, max_iter=5
            ),
            X,
            y * 1e6,
        )


def test_import_deltaprop_without_sklearn():
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import deltaprop\n"
        "try:\n    deltaprop.MLPClassifier\nexcept ImportError as e:\n    print('ImportError', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ImportError" in out.stdout and "pip install 'deltaprop[sklearn]'" in out.stdout
    assert deltaprop.MLPClassifier is MLPClassifier and deltaprop.MLPRegressor is MLPRegressor
    with pytest.raises(AttributeError, match="no attribute 'MLPPerceptron'"):
        deltaprop.MLPPerceptron  # noqa: B018


@pytest.mark.parametrize("scale_deltas", [False, True])
def test_epoch_norms_do_not_depend_on_where_the_batch_mean_is_applied(scale_deltas):
    """The training loops fold 1/n into δᴸ (``scale_deltas``); the delta norms they record must
    be those of the per-sample deltas, as the tutorials define them."""
    from deltaprop.norms import EpochNorms

    rng = np.random.default_rng(5)
    net = deltaprop.Network.from_sizes([4, 6, 3], ["relu", "softmax"], seed=1)
    x, t = rng.normal(size=(9, 4)), np.eye(3)[rng.integers(0, 3, 9)]
    ws = net.workspace(9)
    ws.x[...], ws.t[...] = x, t
    fp = net.forward(ws.x, ws)
    grads = net.backward(fp, ws.t, "cross_entropy", ws, scale_deltas=scale_deltas)
    norms = EpochNorms(net)
    norms.add(ws, grads)
    norms.add(ws, grads)  # two updates with the same gradients: the RMS is one update's norm
    layer_grad, total, layer_delta = norms.epoch(2)
    fresh = net.gradients(x, t, "cross_entropy")
    for i in range(2):
        expected_d = np.sqrt(np.sum(fresh.deltas[i] ** 2) / 9)
        expected_g = np.sqrt(np.sum(fresh.weights[i] ** 2) + np.sum(fresh.biases[i] ** 2))
        assert layer_delta[i] == pytest.approx(expected_d, rel=1e-12)
        assert layer_grad[i] == pytest.approx(expected_g, rel=1e-12)
    assert total == pytest.approx(np.hypot(*layer_grad), rel=1e-12)


def test_lbfgs_history_records_the_gradient_at_the_solution(iris):
    """lbfgs's last recorded norms are those of ∂E/∂θ (L2 term λW included) at the weights it
    ends with, recomputed here from the engine's fresh gradients."""
    X, y = iris
    alpha = 0.5
    est = quiet(MLPClassifier((6,), solver="lbfgs", alpha=alpha, max_iter=15, random_state=0), X, y)
    net, lam = est.network_, alpha / len(X)
    g = net.gradients(X, np.eye(3)[y], "cross_entropy")
    expected = [
        np.sqrt(np.sum((gW + lam * ly.W) ** 2) + np.sum(gb**2))
        for gW, gb, ly in zip(g.weights, g.biases, net.layers, strict=True)
    ]
    np.testing.assert_allclose(est.history_.layer_grad_norms[-1], expected, rtol=1e-10)
    deltas = [np.sqrt(np.sum(d**2) / len(X)) for d in g.deltas]
    np.testing.assert_allclose(est.history_.layer_delta_norms[-1], deltas, rtol=1e-10)
