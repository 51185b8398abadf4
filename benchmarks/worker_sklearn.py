"""Benchmark worker: scikit-learn's MLPClassifier trains the same MLP (every epoch runs)."""

from __future__ import annotations

import warnings

import numpy as np
from common import LEARNING_RATES, MOMENTUM, Timer, base_parser, emit, result_record, rss_mb, setup


def train(estimator_class, library: str, doc: str, **extra) -> None:
    """Fit ``estimator_class`` (an MLPClassifier with scikit-learn's parameters) with the
    benchmark's settings and emit its record; ``extra`` adds constructor arguments."""
    args = base_parser(doc).parse_args()
    x, y, xt, yt, sizes, _, _ = setup(args)
    solver = "adam" if args.optimizer == "adam" else "sgd"
    clf = estimator_class(
        hidden_layer_sizes=tuple(sizes[1:-1]),
        activation="relu",
        solver=solver,
        alpha=0.0,
        batch_size=args.batch_size,
        learning_rate="constant",
        learning_rate_init=LEARNING_RATES[args.optimizer],
        momentum=MOMENTUM,
        nesterovs_momentum=False,
        max_iter=args.epochs,
        shuffle=True,
        random_state=args.seed,
        tol=0.0,
        n_iter_no_change=args.epochs + 1,  # never stop early: every epoch runs
        early_stopping=False,
        **extra,
    )
    rss_before = rss_mb()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the convergence warning at max_iter
        with Timer() as t:
            clf.fit(x, y)
    assert clf.n_iter_ == args.epochs, clf.n_iter_
    acc = float(np.mean(clf.predict(xt) == yt))
    record = result_record(library, args, sizes, x, t.seconds, acc, rss_before_fit_mb=rss_before)
    record["final_loss"] = float(clf.loss_curve_[-1])
    emit(record)


if __name__ == "__main__":
    from sklearn.neural_network import MLPClassifier

    train(MLPClassifier, "sklearn", __doc__)
