"""scikit-learn's own estimator test suite, run on deltaprop's MLPClassifier and MLPRegressor.

Small networks and a larger learning rate keep the suite fast (it fits each estimator ~100 times)
while still passing its accuracy and R² thresholds. Besides the defaults, instances cover lbfgs,
sgd, a deltaprop-only solver with per-layer activations, the Poisson loss and float32.

The parametrisation is ``parametrize_with_checks``'s own (``estimator_checks_generator``), less
the checks that cannot run in this environment and would only report themselves skipped.
"""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.utils.estimator_checks import (
    check_estimators_data_not_an_array,
    estimator_checks_generator,
)

from deltaprop.estimators import MLPClassifier, MLPRegressor

SMALL = dict(hidden_layer_sizes=(10,), max_iter=100, learning_rate_init=0.01)

ESTIMATORS = [
    MLPClassifier(**SMALL),
    MLPClassifier(**{**SMALL, "solver": "lbfgs"}),
    MLPClassifier(
        hidden_layer_sizes=(8, 8),
        activation=["tanh", "relu"],
        solver="rmsprop",
        max_iter=100,
        learning_rate_init=0.01,
    ),
    MLPClassifier(**SMALL, dtype="float32"),
    MLPRegressor(**SMALL),
    # sgd with momentum diverges above η ≈ 0.002 on check_regressor_multioutput's unscaled
    # targets (so does scikit-learn's); 200 epochs then reach check_regressors_train's R² > 0.5.
    # So close to the edge, a seed keeps the run reproducible (one unseeded run failed once).
    MLPRegressor(
        hidden_layer_sizes=(10,),
        solver="sgd",
        learning_rate_init=0.002,
        max_iter=200,
        random_state=0,
    ),
    MLPRegressor(loss="poisson", **SMALL),
    MLPRegressor(**SMALL, dtype="float32"),
]

# Checks that only raise SkipTest here; left out rather than reported as skipped.
NOT_RUNNABLE_HERE = {
    "check_array_api_input": "needs SCIPY_ARRAY_API=1 and array_api_strict; deltaprop is NumPy",
    "check_classifiers_multilabel_output_format_decision_function": (
        "there is no decision_function (nor in scikit-learn's MLPClassifier)"
    ),
}

FLOAT32_SUMS = (
    "float32 arithmetic: the weighted and the repeated data sum their gradients in different "
    "orders, which differ by ~1e-7 relative in float32, above the check's rtol of 1e-7"
)


def expected_failures(est) -> dict[str, str]:
    """Checks that cannot apply to an instance, each with the reason."""
    failures = {}
    if est.dtype == "float32":
        failures["check_sample_weight_equivalence_on_dense_data"] = FLOAT32_SUMS
        failures["check_sample_weight_equivalence_on_sparse_data"] = FLOAT32_SUMS
        if isinstance(est, MLPRegressor):
            failures["check_regressor_multioutput"] = (
                "the check requires float64 predictions; dtype='float32' predicts in float32"
            )
    if getattr(est, "loss", None) == "poisson":
        failures["check_regressor_multioutput"] = (
            "the check fits negative targets without honouring the positive_only tag, and the "
            "Poisson loss is undefined for y < 0"
        )
    return failures


def _check_name(check) -> str:
    return getattr(check, "func", check).__name__


def _params():
    for est in ESTIMATORS:
        generated = estimator_checks_generator(
            est, legacy=True, expected_failed_checks=expected_failures(est), mark="xfail"
        )
        for item in generated:
            marks = ()
            if isinstance(item, type(pytest.param(None))):
                item, marks = item.values, item.marks
            estimator, check = item
            name = _check_name(check)
            if name in NOT_RUNNABLE_HERE:
                continue
            changed = _changed(estimator)
            params = ",".join(
                f"{k}={v!r}" for k, v in estimator.get_params().items() if k in changed
            )
            yield pytest.param(
                estimator, check, marks=marks, id=f"{type(estimator).__name__}({params})-{name}"
            )


def _changed(est) -> set[str]:
    default = type(est)().get_params()
    return {k for k, v in est.get_params().items() if repr(v) != repr(default[k])}


@pytest.mark.parametrize("estimator, check", list(_params()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_every_check_not_run_here_exists():
    """The left-out names are real checks of this scikit-learn (a typo would silently drop one)."""
    names = {
        _check_name(check)
        for est in (MLPClassifier(), MLPRegressor())
        for _, check in estimator_checks_generator(est, legacy=True)
    }
    assert set(NOT_RUNNABLE_HERE) <= names


@pytest.mark.parametrize("est", [MLPClassifier(**SMALL), MLPRegressor(**SMALL)], ids=repr)
def test_data_not_an_array(est):
    """The NotAnArray half of check_{classifier,regressor}_data_not_an_array."""
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = y if isinstance(est, MLPClassifier) else y.astype(np.float64)
    check_estimators_data_not_an_array(type(est).__name__, est, X, y, "NotAnArray")


@pytest.mark.parametrize("est", [MLPClassifier(**SMALL), MLPRegressor(**SMALL)], ids=repr)
def test_dataframe_column_names(est):
    """scikit-learn's check that a fit on a DataFrame records ``feature_names_in_`` and that
    predicting with other column names warns (not in the generator's legacy list)."""
    from sklearn.utils.estimator_checks import check_dataframe_column_names_consistency

    check_dataframe_column_names_consistency(type(est).__name__, est)


def test_dataframe_in_and_out():
    import pandas as pd

    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame((X - X.mean(axis=0)) / X.std(axis=0), columns=list("abcd"))
    est = MLPClassifier(**SMALL, random_state=0).fit(frame, pd.Series(y))
    assert list(est.feature_names_in_) == list("abcd")
    np.testing.assert_array_equal(est.predict(frame), est.predict(frame.to_numpy()))
    assert est.score(frame, y) > 0.9
