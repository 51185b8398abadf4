"""``MLPClassifier``: scikit-learn's multi-layer perceptron classifier on the deltaprop engine."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..losses import get_loss
from ._base import _SPARSE, BaseMLP

Array = np.ndarray


class MLPClassifier(ClassifierMixin, BaseMLP):
    """A multi-layer perceptron classifier, trained by explicit backpropagation.

    Takes scikit-learn's ``MLPClassifier`` parameters with their meanings and exposes its fitted
    attributes (``coefs_``, ``intercepts_``, ``classes_``, ``loss_``, ``loss_curve_``,
    ``best_loss_``, ``validation_scores_``, ``n_iter_``, ``t_``, ``n_layers_``, ``n_outputs_``,
    ``out_activation_``, ``n_features_in_``). The output layer is softmax with cross-entropy for
    several classes, logistic with log loss for two classes or multilabel ``y``.

    Beyond scikit-learn:

    - ``solver``: also ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"adadelta"``,
      ``"rmsprop"``, ``"adamw"``; ``solver_params`` passes further optimizer settings
      (e.g. ``{"weight_decay": 0.01}``).
    - ``checkpoint_dir``: save the run after every epoch (model files, no pickles);
      ``from_checkpoint(path)`` builds the fitted estimator back.
    - ``activation``: one name per hidden layer, any deltaprop activation.
    - ``dtype``: ``"float64"`` or ``"float32"``, the precision of weights and arithmetic.
    - ``history_`` (a :class:`deltaprop.History`: loss, validation loss and accuracy, per-layer
      gradient and delta norms), ``network_`` (the :class:`deltaprop.Network`), ``explain``.
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype="float64",
        solver_params=None,
        checkpoint_dir=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dtype=dtype,
            solver_params=solver_params,
            checkpoint_dir=checkpoint_dir,
        )

    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> MLPClassifier:
        """Fit to ``X`` (n, features) and labels ``y`` (n,) or a label indicator matrix."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self) -> bool:
        if self.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic optimizers")
        return True

    @available_if(_check_solver)
    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        classes: ArrayLike | None = None,
    ) -> MLPClassifier:
        """One epoch over ``(X, y)``; ``classes`` (every label) is required on the first call."""
        if _first_partial_fit_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _validate_input(self, X, y, incremental, reset, dtype):
        X, y = validate_data(
            self, X, y, accept_sparse=_SPARSE, multi_output=True, dtype=dtype, reset=reset
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if "classes_" not in vars(self) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        T = self._label_binarizer.transform(y)
        T = T.toarray() if hasattr(T, "toarray") else T
        return X, np.asarray(T, dtype=dtype), y

    def _output(self):
        if self._label_binarizer.y_type_ == "multiclass":
            # softmax + cross-entropy: δᴸ = o − t
            return "softmax", "softmax", get_loss("cross_entropy"), 1.0
        # logistic + log loss (binary, multilabel): δᴸ = o − t
        return "logistic", "sigmoid", get_loss("log_loss"), 1.0

    def _accuracy_kind(self) -> str:
        return "argmax" if self._label_binarizer.y_type_ == "multiclass" else "threshold"

    def _stratify(self, y):
        return None if self._label_binarizer.y_type_.startswith("multilabel") else y

    def _labels(self, out: Array):
        if self.n_outputs_ == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    def _score_output(self, out, y, sample_weight) -> float:
        return accuracy_score(y, self._labels(out), sample_weight=sample_weight)

    def _explain_targets(self, y) -> Array:
        check_is_fitted(self)
        T = self._label_binarizer.transform(y)
        T = T.toarray() if hasattr(T, "toarray") else T
        return np.asarray(T, dtype=self.network_.dtype)

    def predict(self, X: ArrayLike):
        """Predicted labels, (n,) — or an indicator matrix (n, labels) for multilabel ``y``."""
        return self._labels(self._forward(self._check_X(X)))

    def predict_proba(self, X: ArrayLike) -> Array:
        """Class probabilities (n, classes), in the order of ``classes_``."""
        out = self._forward(self._check_X(X))
        if out.shape[1] == 1:
            p = out.ravel()
            return np.vstack([1 - p, p]).T
        return out

    def predict_log_proba(self, X: ArrayLike) -> Array:
        """``log(predict_proba(X))``."""
        p = self.predict_proba(X)
        return np.log(p, out=p)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _first_partial_fit_call(clf, classes) -> bool:
    """Whether this is the first ``partial_fit``; there ``classes`` is required."""
    known = vars(clf).get("classes_")
    if known is None and classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    if classes is None:
        return False
    if known is not None:
        if not np.array_equal(known, unique_labels(classes)):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                f"was: {known!r}"
            )
        return False
    clf.classes_ = unique_labels(classes)
    return True
