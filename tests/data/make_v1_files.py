"""Model files written by deltaprop before issue 13 (format version 1, commit 8cde008), kept in
tests/data/ so that tests/test_io_robust.py proves old files keep loading:

    PYTHONPATH=src python tests/data/make_v1_files.py tests/data
"""

import sys

import numpy as np

import deltaprop as dp
from deltaprop.io import Preprocessing

out = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.normal(size=(30, 4))
y = np.arange(30) % 3
net = dp.Network.from_sizes([4, 6, 3], ["tanh", "softmax"], seed=0)
h = dp.fit(
    net,
    x,
    y,
    optimizer="adam",
    epochs=3,
    batch_size=8,
    seed=rng,
    schedule=dp.ReduceOnPlateau(factor=0.5, patience=0),
    validation_data=(x, y),
)
h.best_epoch = 2
pre = Preprocessing(
    "classification",
    classes=["a", "b", "c"],
    feature_names=list("pqrs"),
    target_name="t",
    x_mean=x.mean(0),
    x_scale=x.std(0),
)
dp.save(
    f"{out}/v1_classifier.deltaprop",
    net,
    optimizer="adam",
    history=h,
    rng=rng,
    preprocessing=pre,
    metadata={"data": "x.csv"},
)
for name in ("MT19937", "Philox", "SFC64", "PCG64DXSM"):
    g = np.random.Generator(getattr(np.random, name)(5))
    g.random(3)
    reg = dp.Network.from_sizes(
        [4, 5, 1], ["relu", "identity"], bias=[True, False], seed=1, dtype=np.float32
    )
    h = dp.fit(
        reg,
        x,
        x[:, :1],
        optimizer={"name": "rmsprop", "centered": True},
        epochs=2,
        seed=g,
        loss="mse",
        schedule=dp.StepDecay(step_size=1),
    )
    pre = Preprocessing("regression", y_mean=np.array([1.0]), y_scale=np.array([2.0]))
    dp.save(
        f"{out}/v1_regressor_{name.lower()}.deltaprop",
        reg,
        optimizer={"name": "rmsprop", "centered": True},
        history=h,
        rng=g,
        preprocessing=pre,
    )
dp.save(f"{out}/v1_plain.deltaprop", dp.Network.from_sizes([2, 3], "sigmoid", seed=2))
