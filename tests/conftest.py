"""Shared test settings: hypothesis profiles sized for a 2-core CI machine, and isolation.

The suite runs in random order (pytest-randomly; ``-p no:randomly`` turns it off, ``-p randomly
-p "randomly_seed=N"`` replays a run). A test may change process-wide state — register an
activation, a loss or an optimizer, switch the BLAS or compiled paths off, change NumPy's
floating-point error handling or the working directory — so the autouse fixture ``isolated``
snapshots that state before every test and puts it back afterwards: no test sees another's
leftovers.
"""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]  # test_isolation runs small sessions of its own

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Name registries a test may extend: (module, attribute). Looked up with getattr, so that a module
# restructured without one of them does not break the fixture.
REGISTRIES = (
    ("deltaprop.activations", "_REGISTRY"),
    ("deltaprop.losses", "LOSSES"),
    ("deltaprop.optimizers", "OPTIMIZERS"),
    ("deltaprop.schedules", "SCHEDULES"),
    ("deltaprop.initializers", "INITIALIZERS"),
)
# Process-wide switches (module, attribute): the fast paths' ``disabled()`` depth and state.
SWITCHES = (
    ("deltaprop._blas", "_enabled"),
    ("deltaprop._blas", "_disabled_depth"),
    ("deltaprop._fused", "_disabled_depth"),
    ("deltaprop.optimizers.fast", "_off"),
)


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


class GlobalState:
    """A snapshot of the process-wide state tests may change; ``restore()`` puts it back."""

    def __init__(self, registries=REGISTRIES, switches=SWITCHES):
        self.registries = []  # (the dict object, a shallow copy of its items)
        for module_name, attr in registries:
            registry = getattr(_module(module_name), attr, None)
            if isinstance(registry, dict):
                self.registries.append((registry, dict(registry)))
        missing = object()
        self.switches = []
        for module_name, attr in switches:
            module = _module(module_name)
            value = getattr(module, attr, missing)
            if value is not missing:
                self.switches.append((module, attr, value))
        self.errstate = np.geterr()
        self.cwd = os.getcwd()

    def restore(self) -> list[str]:
        """Put everything back in place (the same dict objects, whose contents others import);
        returns what had changed, for the report of a leaking test."""
        changed = []
        for registry, items in self.registries:
            if registry != items:
                added = sorted(set(registry) - set(items))
                removed = sorted(set(items) - set(registry))
                changed.append(f"registry: added {added}, removed {removed}")
                registry.clear()
                registry.update(items)
        for module, attr, value in self.switches:
            if getattr(module, attr) != value:
                changed.append(f"{module.__name__}.{attr}")
                setattr(module, attr, value)
        if np.geterr() != self.errstate:
            changed.append("numpy errstate")
            np.seterr(**self.errstate)
        if os.getcwd() != self.cwd:
            changed.append("working directory")
            os.chdir(self.cwd)
        return changed


@pytest.fixture(autouse=True)
def isolated():
    """Every test starts from the state the session started with, whatever ran before it."""
    snapshot = GlobalState()
    yield snapshot
    snapshot.restore()


def pytest_addoption(parser):
    parser.addoption(
        "--reverse",
        action="store_true",
        help="run the tests in reverse order (with -p no:randomly: the file order backwards)",
    )


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle, if it is on
def pytest_collection_modifyitems(config, items):
    if config.getoption("--reverse"):
        items.reverse()


def pytest_terminal_summary(terminalreporter, config):
    """The random order's seed, also under -q (which hides pytest-randomly's header line)."""
    seed = getattr(config.option, "randomly_seed", None)
    if config.pluginmanager.has_plugin("randomly") and isinstance(seed, int):
        terminalreporter.write_line(f"random order: replay with -p randomly --randomly-seed={seed}")
