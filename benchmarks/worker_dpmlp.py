"""Benchmark worker: deltaprop's scikit-learn interface (``deltaprop.estimators.MLPClassifier``)
with exactly the settings ``worker_sklearn.py`` gives scikit-learn's, in float32."""

from __future__ import annotations

from common import base_parser
from worker_sklearn import train

from deltaprop import _fused
from deltaprop.estimators import MLPClassifier

if __name__ == "__main__":
    if base_parser(__doc__).parse_args().optimizer == "adam":
        _fused.kernels()  # Numba's import and the Adam loop's load, before the clock (as for fit)
    train(MLPClassifier, "dpmlp", __doc__, dtype="float32")
