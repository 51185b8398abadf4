"""Plots of training and of trained networks, with matplotlib (``pip install 'deltaprop[plot]'``).

Every function returns a matplotlib ``Figure`` and takes ``ax=`` to draw into axes of your own.
matplotlib is imported on the first call, never by ``import deltaprop``; without it the call
raises one ImportError naming the extra to install.
"""

from .boundary import plot_decision_boundary
from .curves import plot_loss, plot_update_loss
from .drawing import plot_network
from .gradients import plot_delta_norms, plot_grad_norms
from .results import confusion_matrix, plot_confusion_matrix, plot_predicted_vs_true
from .saturation import plot_saturation

__all__ = [
    "confusion_matrix",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_delta_norms",
    "plot_grad_norms",
    "plot_loss",
    "plot_network",
    "plot_predicted_vs_true",
    "plot_saturation",
    "plot_update_loss",
]
