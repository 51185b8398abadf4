"""scikit-learn estimators over the deltaprop engine: :class:`MLPClassifier`, :class:`MLPRegressor`.

Drop-in replacements for ``sklearn.neural_network``'s, with every deltaprop optimizer, per-layer
activations, float32, a training history and worked solutions. Needs scikit-learn
(``pip install 'deltaprop[sklearn]'``); ``import deltaprop`` works without it.
"""

try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "deltaprop's MLPClassifier and MLPRegressor need scikit-learn: "
        "pip install 'deltaprop[sklearn]'"
    ) from exc

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
