"""Learning-rate schedules ``η(epoch)``, applied at the start of every epoch.

==================  ===============================================================
constant            η₀
step                η₀ · γ^⌊epoch / step_size⌋
exponential         η₀ · γ^epoch
inverse_scaling     η₀ / (epoch + 1)^power
plateau             η × factor whenever the monitored loss has not improved by more
                    than ``threshold`` (relative) for ``patience`` epochs; never below ``min_lr``
==================  ===============================================================
"""

from __future__ import annotations

import math

from .validation import check_int, check_number


class Schedule:
    """``learning_rate(epoch, base)`` gives η for the epoch; ``observe(loss)`` sees its loss.

    ``settings()`` are the constructor's arguments and ``state()`` what the schedule learned while
    training (only :class:`ReduceOnPlateau` learns anything): together they rebuild it exactly
    (:func:`schedule_from_dict`), which is how a model file continues a schedule.
    """

    name = "constant"

    def learning_rate(self, epoch: int, base: float) -> float:
        return base

    def observe(self, loss: float) -> None:
        """Called with the monitored loss at the end of every epoch."""

    def settings(self) -> dict:
        """The constructor's arguments."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def state(self) -> dict:
        """What the schedule has learned so far (JSON-ready numbers; empty for fixed rules)."""
        return {}

    def load_state(self, state: dict) -> None:
        """Restore :meth:`state`."""
        if state:
            raise ValueError(f"{self.name} schedule keeps no state, got {sorted(state)}")

    def as_dict(self) -> dict:
        """``{"name", "settings", "state"}``: everything :func:`schedule_from_dict` needs."""
        return {"name": self.name, "settings": self.settings(), "state": self.state()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """η₀ throughout."""


class StepDecay(Schedule):
    """η₀ · γ^⌊epoch / step_size⌋."""

    name = "step"

    def __init__(self, step_size: int = 10, gamma: float = 0.1):
        self.step_size = check_int(step_size, "step_size", 1)
        self.gamma = check_number(gamma, "gamma", 0.0, low_inclusive=False)

    def learning_rate(self, epoch, base):
        return base * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """η₀ · γ^epoch."""

    name = "exponential"

    def __init__(self, gamma: float = 0.95):
        self.gamma = check_number(gamma, "gamma", 0.0, low_inclusive=False)

    def learning_rate(self, epoch, base):
        return base * self.gamma**epoch


class InverseScaling(Schedule):
    """η₀ / (epoch + 1)^power."""

    name = "inverse_scaling"

    def __init__(self, power: float = 0.5):
        self.power = check_number(power, "power", 0.0)

    def learning_rate(self, epoch, base):
        return base / math.pow(epoch + 1, self.power)


class ReduceOnPlateau(Schedule):
    """Multiply η by ``factor`` after ``patience`` epochs without a relative improvement.

    Its state — the best loss seen, the epochs since, the factor applied so far — is saved with a
    model (``history.schedule``), so a resumed run continues it.
    """

    name = "plateau"

    def __init__(
        self,
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        min_lr: float = 0.0,
    ):
        self.factor = check_number(
            factor, "factor", 0.0, 1.0, low_inclusive=False, high_inclusive=False
        )
        self.patience = check_int(patience, "patience", 0)
        self.threshold = check_number(threshold, "threshold", 0.0)
        self.min_lr = check_number(min_lr, "min_lr", 0.0)
        self._best = math.inf
        self._bad_epochs = 0
        self._scale = 1.0

    def observe(self, loss):
        if loss < self._best * (1 - self.threshold):
            self._best = loss
            self._bad_epochs = 0
        else:
            self._bad_epochs += 1
            if self._bad_epochs > self.patience:
                self._scale *= self.factor
                self._bad_epochs = 0

    def learning_rate(self, epoch, base):
        return max(base * self._scale, self.min_lr)

    def state(self) -> dict:
        best = None if self._best == math.inf else self._best  # None: nothing seen yet
        return {"best": best, "bad_epochs": self._bad_epochs, "scale": self._scale}

    def load_state(self, state: dict) -> None:
        if set(state) != {"best", "bad_epochs", "scale"}:
            raise ValueError(
                f"plateau schedule state needs best, bad_epochs and scale, got {sorted(state)}"
            )
        best = state["best"]
        if best is not None and (isinstance(best, bool) or not isinstance(best, int | float)):
            raise ValueError(f"Invalid best loss: {best!r} (expected a number or None)")
        if best is not None and math.isnan(best):
            raise ValueError("Invalid best loss: nan")
        self._best = math.inf if best is None else float(best)
        self._bad_epochs = check_int(state["bad_epochs"], "bad_epochs", 0)
        self._scale = check_number(state["scale"], "scale", 0.0, 1.0)


SCHEDULES = {
    "constant": Constant,
    "step": StepDecay,
    "exponential": ExponentialDecay,
    "inverse_scaling": InverseScaling,
    "invscaling": InverseScaling,
    "plateau": ReduceOnPlateau,
    "reduce_on_plateau": ReduceOnPlateau,
}


def schedule_from_dict(d: dict) -> Schedule:
    """The schedule :meth:`Schedule.as_dict` describes, its state restored."""
    if not isinstance(d, dict) or set(d) != {"name", "settings", "state"}:
        raise ValueError("a schedule is described by a dict with keys name, settings, state")
    name, settings, state = d["name"], d["settings"], d["state"]
    if not isinstance(name, str):
        raise ValueError(f"a schedule's name must be a string, got {name!r}")
    if not isinstance(settings, dict) or not isinstance(state, dict):
        raise ValueError("a schedule's settings and state must be dicts")
    schedule = get_schedule(name, **settings)
    schedule.load_state(state)
    return schedule


def get_schedule(schedule: str | Schedule | None, **kwargs) -> Schedule:
    """A schedule by name (``"step"``, ``"exponential"``, …) or instance; None is constant."""
    if schedule is None:
        return Constant()
    if isinstance(schedule, Schedule):
        return schedule
    if not isinstance(schedule, str) or schedule.lower() not in SCHEDULES:
        raise ValueError(
            f"unknown schedule {schedule!r}; expected one of {', '.join(sorted(SCHEDULES))}"
        )
    return SCHEDULES[schedule.lower()](**kwargs)
