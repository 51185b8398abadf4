"""deltaprop: neural networks trained by explicit backpropagation.

The forward pass ``z = W a + b``, ``a = f(z)``; the backward pass by the delta rule
``δˡ = f'(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹``; gradients ``∂E/∂W = δ aᵀ``; and a gradient-descent step — in NumPy,
vectorised over the batch, every number inspectable.
"""

from .activations import Activation, available_activations, get_activation, register_activation
from .callbacks import Callback, EarlyStopping, LambdaCallback
from .checkpoints import Checkpoint
from .compare import Comparison, compare
from .diagnose import Diagnosis, diagnose
from .divergence import DivergenceCheck, DivergenceError
from .export import to_onnx, to_torch
from .gradcheck import GradcheckResult, gradcheck, numeric_gradients
from .interrupt import TrainingInterrupted, stop_on_signals
from .io import load, save
from .losses import Loss, available_losses, get_loss, output_delta, register_loss
from .network import Dense, ForwardPass, Gradients, Network
from .optimizers import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    AdamW,
    Optimizer,
    RMSProp,
    available_optimizers,
    get_optimizer,
    register_optimizer,
)
from .report import report
from .schedules import (
    Constant,
    ExponentialDecay,
    InverseScaling,
    ReduceOnPlateau,
    Schedule,
    StepDecay,
    get_schedule,
)
from .spec import SpecError, load_spec
from .step import TrainingStep
from .summary import Summary
from .trace import StepTrace, Trace, explain
from .training import History, fit
from .vanishing import VanishingGradientWarning

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Callback",
    "Checkpoint",
    "Comparison",
    "Constant",
    "Dense",
    "Diagnosis",
    "DivergenceCheck",
    "DivergenceError",
    "EarlyStopping",
    "ExponentialDecay",
    "ForwardPass",
    "GradcheckResult",
    "Gradients",
    "History",
    "InverseScaling",
    "LambdaCallback",
    "Loss",
    "Network",
    "Optimizer",
    "RMSProp",
    "ReduceOnPlateau",
    "SGD",
    "Schedule",
    "SpecError",
    "StepDecay",
    "StepTrace",
    "Summary",
    "Trace",
    "TrainingInterrupted",
    "TrainingStep",
    "VanishingGradientWarning",
    "available_activations",
    "available_losses",
    "available_optimizers",
    "compare",
    "diagnose",
    "explain",
    "fit",
    "get_activation",
    "get_loss",
    "get_optimizer",
    "get_schedule",
    "gradcheck",
    "load",
    "load_spec",
    "numeric_gradients",
    "output_delta",
    "register_activation",
    "register_loss",
    "register_optimizer",
    "report",
    "save",
    "stop_on_signals",
    "to_onnx",
    "to_torch",
]


def __getattr__(name: str):
    # The scikit-learn estimators load on first use, so ``import deltaprop`` needs no scikit-learn.
    if name in ("MLPClassifier", "MLPRegressor"):
        from . import estimators

        return getattr(estimators, name)
    if name == "plots":  # dp.plots: matplotlib's module loads with it, not with deltaprop
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'deltaprop' has no attribute {name!r}")
