"""Benchmark worker: deltaprop's scikit-learn interface (``deltaprop.estimators.MLPClassifier``)
with exactly the settings ``worker_sklearn.py`` gives scikit-learn's, in float32."""

from __future__ import annotations

from worker_sklearn import train

from deltaprop import _fused
from deltaprop.estimators import MLPClassifier

if __name__ == "__main__":
    _fused.kernels()  # Numba's import and the compiled loops' load, before the clock (as in fit's)
    train(MLPClassifier, "dpmlp", __doc__, dtype="float32")
