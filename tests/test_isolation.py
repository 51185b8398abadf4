"""The suite's isolation: conftest's snapshot of process-wide state puts back whatever a test
changed, so that the suite passes in any order (it runs in random order under pytest-randomly)."""

import os
import textwrap
from pathlib import Path

import numpy as np
from conftest import GlobalState

import deltaprop as dp
from deltaprop import _blas, _fused, activations, losses, optimizers

BUILT_IN_ACTIVATIONS = [
    "elu", "gelu", "identity", "leaky_relu", "relu", "sigmoid", "silu", "softmax", "softplus",
    "tanh",
]  # fmt: skip


def test_restore_undoes_registrations_switches_errstate_and_cwd(tmp_path):
    before_acts = dict(activations._REGISTRY)
    before_losses = dict(losses.LOSSES)
    before_opts = dict(optimizers.OPTIMIZERS)
    blas_depth, fused_depth, errstate, cwd = (
        _blas._disabled_depth, _fused._disabled_depth, np.geterr(), os.getcwd()
    )  # fmt: skip
    snapshot = GlobalState()

    dp.register_activation("leaky_test", np.negative, np.sign)
    activations._REGISTRY["tanh"] = activations._REGISTRY["relu"]  # replaced, not only added
    losses.LOSSES["hinge_test"] = losses.LOSSES["mse"]
    del optimizers.OPTIMIZERS["adagrad"]
    blas_off, fused_off = _blas.disabled(), _fused.disabled()
    blas_off.__enter__()  # left open, as a test failing inside the block would not do
    fused_off.__enter__()
    np.seterr(all="raise")
    os.chdir(tmp_path)

    changed = snapshot.restore()
    assert len(changed) == 8, changed
    assert "registry: added ['leaky_test'], removed []" in changed
    assert "registry: added [], removed ['adagrad']" in changed
    assert activations._REGISTRY == before_acts and losses.LOSSES == before_losses
    assert optimizers.OPTIMIZERS == before_opts
    assert activations._REGISTRY["tanh"].name == "tanh"
    assert "leaky_test" not in dp.available_activations()
    assert (_blas._disabled_depth, _fused._disabled_depth) == (blas_depth, fused_depth)
    assert np.geterr() == errstate and os.getcwd() == cwd
    assert snapshot.restore() == []  # nothing left to undo


def test_restore_keeps_the_registries_identity():
    """Other modules import the dicts themselves: restoring must refill them, not rebind."""
    registry = activations._REGISTRY
    snapshot = GlobalState()
    dp.register_activation("leaky_test", np.negative, np.sign)
    snapshot.restore()
    assert activations._REGISTRY is registry
    assert "leaky_test" not in activations._REGISTRY


def test_a_missing_registry_or_module_is_skipped():
    snapshot = GlobalState(
        registries=[("deltaprop.losses", "NO_SUCH_DICT"), ("deltaprop.no_such_module", "X")],
        switches=[("deltaprop._blas", "no_such_flag")],
    )
    assert snapshot.registries == [] and snapshot.switches == []
    assert snapshot.restore() == []


def test_every_test_starts_with_the_built_in_names_only(isolated):
    """Whatever ran before (in random order), this test sees the built-ins and nothing else."""
    assert dp.available_activations() == BUILT_IN_ACTIVATIONS
    assert isinstance(isolated, GlobalState)


LEAK_THEN_CHECK = """
    import numpy as np
    import deltaprop as dp

    def test_a_registers():
        dp.register_activation("leaked", np.negative, np.sign)

    def test_b_sees_no_leftover():
        assert "leaked" not in dp.available_activations()
"""


def test_a_registration_does_not_reach_the_next_test(pytester):
    """Two tests in a fresh session, the registering one first: with the suite's conftest the
    second passes; without it, it fails (so the check above can fail at all)."""
    pytester.makepyfile(test_leak=textwrap.dedent(LEAK_THEN_CHECK))
    bare = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    bare.assert_outcomes(passed=1, failed=1)
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text())
    isolated = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    isolated.assert_outcomes(passed=2)
