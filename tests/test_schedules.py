"""Learning-rate schedules on their own: each η(epoch) against its formula at chosen epochs (exact
binary values where the formula allows), ReduceOnPlateau's rule at its boundaries, the state that
model files keep, and the names and settings that build them."""

import math

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.schedules import SCHEDULES, get_schedule, schedule_from_dict


def rates(schedule, base, epochs):
    return [schedule.learning_rate(e, base) for e in range(epochs)]


def test_fixed_rules_give_their_formula():
    assert rates(dp.Constant(), 0.3, 3) == [0.3, 0.3, 0.3]
    # η₀ γ^⌊e / s⌋ with s = 3, γ = ½
    assert rates(dp.StepDecay(step_size=3, gamma=0.5), 0.2, 8) == [
        0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05,
    ]  # fmt: skip
    assert rates(dp.StepDecay(step_size=1, gamma=0.25), 1.0, 3) == [1.0, 0.25, 0.0625]
    assert rates(dp.ExponentialDecay(gamma=0.5), 0.8, 4) == [0.8, 0.4, 0.2, 0.1]
    # η₀ / (e + 1)^p: p = 1 is 1/(e + 1), p = ½ is 1/√(e + 1), p = 0 is constant
    assert rates(dp.InverseScaling(power=1.0), 1.2, 4) == pytest.approx(
        [1.2, 0.6, 0.4, 0.3], rel=1e-15
    )
    assert rates(dp.InverseScaling(power=0.5), 1.0, 5)[3] == 0.5  # 1/√4
    assert rates(dp.InverseScaling(power=0.0), 0.7, 3) == [0.7, 0.7, 0.7]
    assert dp.InverseScaling(power=2.0).learning_rate(2, 0.9) == pytest.approx(0.1, rel=1e-15)


def test_default_settings():
    assert dp.StepDecay().settings() == {"step_size": 10, "gamma": 0.1}
    assert dp.ExponentialDecay().settings() == {"gamma": 0.95}
    assert dp.InverseScaling().settings() == {"power": 0.5}
    assert dp.ReduceOnPlateau().settings() == {
        "factor": 0.1, "patience": 10, "threshold": 1e-4, "min_lr": 0.0,
    }  # fmt: skip
    assert dp.Constant().settings() == {}


def plateau(values, **settings):
    schedule = dp.ReduceOnPlateau(**settings)
    for v in values:
        schedule.observe(v)
    return schedule


@pytest.mark.parametrize(
    ("second", "improves"),
    [
        (0.75, False),  # better by exactly the relative threshold (¼ of 1.0): not enough
        (np.nextafter(0.75, 0.0), True),
        (np.nextafter(0.75, 1.0), False),
        (0.5, True),
        (1.0, False),
    ],
)
def test_plateau_improvement_is_relative_and_strict(second, improves):
    s = plateau([1.0, second], threshold=0.25, patience=5)
    assert s.state() == {
        "best": second if improves else 1.0,
        "bad_epochs": 0 if improves else 1,
        "scale": 1.0,
    }


def test_plateau_cuts_after_more_than_patience_bad_epochs_and_counts_again():
    s = plateau([1.0], factor=0.5, patience=2)
    for bad, expected_scale in [(1, 1.0), (2, 1.0), (0, 0.5), (1, 0.5), (2, 0.5), (0, 0.25)]:
        s.observe(1.0)
        assert (s.state()["bad_epochs"], s.state()["scale"]) == (bad, expected_scale)
    assert s.learning_rate(99, 0.4) == 0.1  # the epoch does not matter, only the scale
    s.observe(0.5)  # an improvement resets the count but keeps the scale
    assert s.state() == {"best": 0.5, "bad_epochs": 0, "scale": 0.25}


def test_plateau_patience_zero_cuts_at_every_bad_epoch():
    s = plateau([1.0, 1.0, 1.0], factor=0.5, patience=0)
    assert s.state() == {"best": 1.0, "bad_epochs": 0, "scale": 0.25}


def test_plateau_never_goes_below_min_lr():
    s = plateau([1.0, 2.0, 2.0, 2.0], factor=0.5, patience=0, min_lr=0.3)
    assert s.state()["scale"] == 0.125
    assert s.learning_rate(0, 1.0) == 0.3  # max(1.0 × 0.125, 0.3)
    assert s.learning_rate(0, 4.0) == 0.5  # above the floor: the scaled rate


def test_plateau_state_starts_empty_and_round_trips():
    fresh = dp.ReduceOnPlateau()
    assert fresh.state() == {"best": None, "bad_epochs": 0, "scale": 1.0}
    s = plateau([1.0, 0.5, 0.6], factor=0.5, patience=3)
    d = s.as_dict()
    assert d == {
        "name": "plateau",
        "settings": {"factor": 0.5, "patience": 3, "threshold": 1e-4, "min_lr": 0.0},
        "state": {"best": 0.5, "bad_epochs": 1, "scale": 1.0},
    }
    back = schedule_from_dict(d)
    assert type(back) is dp.ReduceOnPlateau and back.as_dict() == d
    back.observe(0.5)  # continues: a second bad epoch of three
    assert back.state()["bad_epochs"] == 2
    restored = dp.ReduceOnPlateau()
    restored.load_state({"best": None, "bad_epochs": 0, "scale": 1.0})
    assert restored.state()["best"] is None
    restored.observe(1e300)  # anything improves on "nothing seen"
    assert restored.state()["best"] == 1e300


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            {"best": 1.0, "bad_epochs": 0},
            r"plateau schedule state needs best, bad_epochs and scale, "
            r"got \['bad_epochs', 'best'\]$",
        ),
        ({"best": "1", "bad_epochs": 0, "scale": 1.0}, r"Invalid best loss: '1'"),
        ({"best": True, "bad_epochs": 0, "scale": 1.0}, r"Invalid best loss: True"),
        ({"best": math.nan, "bad_epochs": 0, "scale": 1.0}, r"Invalid best loss: nan$"),
        ({"best": 1.0, "bad_epochs": -1, "scale": 1.0}, r"Invalid bad_epochs: -1"),
        ({"best": 1.0, "bad_epochs": 0, "scale": 1.5}, r"Invalid scale: 1.5"),
        ({"best": 1.0, "bad_epochs": 0, "scale": -0.5}, r"Invalid scale: -0.5 \(expected >= 0.0\)"),
    ],
)
def test_plateau_rejects_a_bad_state(state, message):
    with pytest.raises(ValueError, match=rf"^{message}"):
        dp.ReduceOnPlateau().load_state(state)


def test_fixed_rules_keep_no_state():
    for cls in (dp.Constant, dp.StepDecay, dp.ExponentialDecay, dp.InverseScaling):
        s = cls()
        assert s.state() == {}
        s.load_state({})
        with pytest.raises(ValueError, match=rf"{s.name} schedule keeps no state, got \['best'\]"):
            s.load_state({"best": 1.0})


def test_as_dict_and_repr():
    s = dp.StepDecay(step_size=4, gamma=0.5)
    assert s.as_dict() == {"name": "step", "settings": {"step_size": 4, "gamma": 0.5}, "state": {}}
    assert repr(s) == "StepDecay(step_size=4, gamma=0.5)"
    assert repr(dp.Constant()) == "Constant()"
    assert schedule_from_dict(s.as_dict()).learning_rate(4, 1.0) == 0.5


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ({"name": "step", "settings": {}}, "a schedule is described by a dict with keys name, "),
        ("step", "a schedule is described by a dict with keys name, settings, state$"),
        ({"name": 3, "settings": {}, "state": {}}, "a schedule's name must be a string, got 3$"),
        ({"name": "step", "settings": [], "state": {}}, "a schedule's settings and state must "),
        (
            {"name": "step", "settings": {}, "state": None},
            "a schedule's settings and state must be dicts$",
        ),
        ({"name": "cosine", "settings": {}, "state": {}}, "unknown schedule 'cosine'"),
    ],
)
def test_schedule_from_dict_rejects_what_it_cannot_build(d, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        schedule_from_dict(d)


def test_names_aliases_and_settings():
    expected = {
        "constant": dp.Constant, "step": dp.StepDecay, "exponential": dp.ExponentialDecay,
        "inverse_scaling": dp.InverseScaling, "invscaling": dp.InverseScaling,
        "plateau": dp.ReduceOnPlateau, "reduce_on_plateau": dp.ReduceOnPlateau,
    }  # fmt: skip
    assert {k: v for k, v in SCHEDULES.items()} == expected
    for name, cls in expected.items():
        assert type(get_schedule(name)) is cls and type(get_schedule(name.upper())) is cls
    assert get_schedule("step", step_size=2, gamma=0.5).settings() == {"step_size": 2, "gamma": 0.5}
    assert type(get_schedule(None)) is dp.Constant
    same = dp.ExponentialDecay()
    assert get_schedule(same) is same
    with pytest.raises(ValueError, match=r"unknown schedule 'cosine'; expected one of constant, "):
        get_schedule("cosine")
    with pytest.raises(ValueError, match=r"unknown schedule 3"):
        get_schedule(3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: dp.StepDecay(step_size=0), r"Invalid step_size: 0 \(expected >= 1\)"),
        (lambda: dp.StepDecay(gamma=0.0), r"Invalid gamma: 0.0 \(expected > 0.0\)"),
        (lambda: dp.ExponentialDecay(gamma=0.0), r"Invalid gamma: 0.0 \(expected > 0.0\)"),
        (lambda: dp.InverseScaling(power=-0.5), r"Invalid power: -0.5 \(expected >= 0.0\)"),
        (lambda: dp.ReduceOnPlateau(factor=1.0), r"Invalid factor: 1.0 \(expected < 1.0\)"),
        (lambda: dp.ReduceOnPlateau(factor=0.0), r"Invalid factor: 0.0 \(expected > 0.0\)"),
        (lambda: dp.ReduceOnPlateau(patience=-1), r"Invalid patience: -1 \(expected >= 0\)"),
        (lambda: dp.ReduceOnPlateau(threshold=-1e-3), r"Invalid threshold: -0.001"),
        (lambda: dp.ReduceOnPlateau(min_lr=-1.0), r"Invalid min_lr: -1.0"),
    ],
)
def test_bad_settings_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_edge_settings_are_accepted():
    assert dp.StepDecay(step_size=1, gamma=1.0).learning_rate(5, 0.5) == 0.5
    assert dp.ReduceOnPlateau(patience=0, threshold=0.0, min_lr=0.0).settings()["patience"] == 0
    assert dp.InverseScaling(power=0).settings() == {"power": 0.0}
