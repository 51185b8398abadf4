"""Optimizers by name: the table behind ``get_optimizer("adam", …)`` and the one way to add one."""

from __future__ import annotations

from collections.abc import Callable

from .base import Optimizer

OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {}


def register_optimizer(
    name: str, factory: Callable[..., Optimizer] | None = None
) -> Callable[..., Optimizer]:
    """Make ``get_optimizer(name, **settings)`` build ``factory(**settings)``; returns ``factory``.

    ``factory`` is an :class:`Optimizer` subclass (or a function returning one). Usable as a
    decorator: ``@register_optimizer("lion")`` above the class. A name is registered once.
    """
    if not isinstance(name, str) or not name or name != name.lower():
        raise ValueError(f"an optimizer's name must be a non-empty lower-case string, got {name!r}")

    def add(f: Callable[..., Optimizer]) -> Callable[..., Optimizer]:
        if not callable(f):
            raise TypeError(f"optimizer {name!r} needs a class or a function, got {f!r}")
        if name in OPTIMIZERS and OPTIMIZERS[name] is not f:
            raise ValueError(f"optimizer {name!r} is already registered")
        OPTIMIZERS[name] = f
        return f

    return add if factory is None else add(factory)


def get_optimizer(optimizer: str | Optimizer | dict = "sgd", **kwargs) -> Optimizer:
    """An optimizer by name and settings: ``get_optimizer("adam", learning_rate=1e-3)``.

    A dict ``{"name": "adam", "learning_rate": ...}`` works too; an :class:`Optimizer` passes
    through.
    """
    if isinstance(optimizer, Optimizer):
        if kwargs:
            raise ValueError("settings cannot be given with an optimizer instance")
        return optimizer
    if isinstance(optimizer, dict):
        kwargs = {**{k: v for k, v in optimizer.items() if k != "name"}, **kwargs}
        optimizer = optimizer.get("name", "sgd")
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; expected one of {', '.join(sorted(OPTIMIZERS))}"
        )
    kwargs = {("learning_rate" if k in ("lr", "eta") else k): v for k, v in kwargs.items()}
    try:
        return OPTIMIZERS[optimizer.lower()](**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad settings for optimizer {optimizer!r}: {exc}") from None


def available_optimizers() -> list[str]:
    """Names of every optimizer."""
    return sorted(OPTIMIZERS)
