"""``save`` and ``load`` agree (issue 22 item 2): whatever ``zerograd train`` or ``checkpoint.save`` writes, ``load``
reads back unchanged. Once, ``train`` wrote checkpoints that ``load`` refused: a dataset's class name of 100,000
characters, 2,000 hidden layers, a weight decay above 1e6."""

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zerograd import checkpoint
from zerograd.cli import main
from zerograd.optim import OPTIMIZERS, make_optimizer
from zerograd.run import RunSpec
from zerograd.train import SAMPLINGS, TrainConfig
from zerograd.validators import SEED_MAX

POSITIVE = st.floats(min_value=5e-324, max_value=1.7976931348623157e308)  # lr, and any CLI "positive number"
NON_NEGATIVE = st.one_of(st.just(0.0), POSITIVE)
FRACTION = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
COUNT = st.integers(min_value=1, max_value=2**63 - 1)  # epochs, batch sizes: the CLI takes any positive integer
OPTIMIZER_PARAMS = {"momentum": ["momentum"], "rmsprop": ["decay_rate"], "adam": ["beta1", "beta2"]}


@st.composite
def runs(draw):
    """What train could save: a net as ``RunSpec.build_net`` makes it from valid options, its optimizer after a step,
    the run's settings and metadata."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=5))
    # NOTE: an init scale above ~1e30 makes float32 weights infinite; such a run diverges and is never saved
    init = draw(
        st.one_of(st.none(), st.sampled_from(["he", "xavier"]), st.floats(min_value=1e-300, max_value=1e30).map(repr))
    )
    spec = RunSpec(
        hidden=tuple(sizes),
        activation=draw(st.sampled_from(["relu", "sigmoid"])),
        init=init,
        weight_decay=draw(NON_NEGATIVE),
        dtype=draw(st.sampled_from(["float32", "float64"])),
        seed=draw(st.integers(0, SEED_MAX)),
        batchnorm=draw(st.booleans()),
        dropout=draw(st.one_of(st.just(0.0), FRACTION)),
    )
    net = spec.build_net(draw(st.integers(1, 5)), draw(st.integers(2, 5)))
    name = draw(st.sampled_from(sorted(OPTIMIZERS)))
    params = {key: draw(FRACTION) for key in OPTIMIZER_PARAMS.get(name, [])}
    lr = draw(POSITIVE)
    optimizer = make_optimizer(name, lr=lr, **params)
    with np.errstate(all="ignore"):
        optimizer.update(net.params, {k: np.full_like(v, 1e-3) for k, v in net.params.items()})
    for value in net.params.values():  # a huge lr may have made them infinite: a diverged run is never saved
        np.nan_to_num(value, copy=False, posinf=1.0, neginf=-1.0)
    config = TrainConfig(
        epochs=draw(COUNT),
        batch_size=draw(COUNT),
        optimizer=name,
        lr=lr,
        optimizer_params=params,
        seed=draw(st.integers(0, SEED_MAX)),
        sampling=draw(st.sampled_from(SAMPLINGS)),
        eval_batch_size=draw(COUNT),
        eval_train_samples=draw(st.one_of(st.none(), COUNT)),
    )
    finite = st.floats(allow_nan=False, allow_infinity=False)
    history = {key: draw(st.lists(finite, max_size=4)) for key in ("loss", "epoch_loss", "train_acc", "seconds")}
    history["iterations_per_epoch"] = draw(COUNT)
    metadata = {
        "dataset": draw(st.text()),
        "dataset_spec": draw(st.text()),
        "root": draw(st.none() | st.text()),
        "classes": draw(st.lists(st.text(), max_size=6)),
    }
    return dict(
        net=net,
        optimizer=optimizer,
        epoch=draw(st.integers(0, 2**63 - 1)),
        history=history,
        rng_state=np.random.default_rng(draw(st.integers(0, SEED_MAX))).bit_generator.state,
        train_config=config.to_dict(),
        metadata=metadata,
    )


def assert_same(saved, loaded):
    assert loaded.net.config() == saved["net"].config()
    for key, value in saved["net"].params.items():
        np.testing.assert_array_equal(loaded.net.params[key], value)
        assert loaded.net.params[key].dtype == value.dtype
    state, back = saved["optimizer"].state_dict(), loaded.optimizer.state_dict()
    assert back["type"] == state["type"] and back["hyperparameters"] == state["hyperparameters"]
    assert loaded.epoch == saved["epoch"] and loaded.rng_state == saved["rng_state"]
    assert loaded.train_config == saved["train_config"] and loaded.metadata == saved["metadata"]
    assert loaded.history == saved["history"]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(run=runs())
def test_load_reads_whatever_save_writes(tmp_path, run):
    path = checkpoint.save(tmp_path / "c.npz", **run)
    assert_same(run, checkpoint.load(path))


def test_the_issue_s_extremes_round_trip(tmp_path):
    """The values train wrote and load refused: each alone, through save and load."""
    net = RunSpec(hidden=(1,) * 2000, weight_decay=1e7).build_net(2, 2)
    optimizer = make_optimizer("adam", lr=1e-300)
    run = dict(
        net=net,
        optimizer=optimizer,
        epoch=3,
        history={"loss": [1.0], "iterations_per_epoch": 1},
        rng_state=None,
        train_config=TrainConfig(epochs=2**40, batch_size=2**33, lr=1e-300, optimizer="adam").to_dict(),
        metadata={
            "dataset": "d" * 5000,
            "dataset_spec": "/x" * 3000,
            "root": None,
            "classes": ["c" * 100_000, "\ud800 lone surrogate", "é" * 2000],
        },
    )
    assert_same(run, checkpoint.load(checkpoint.save(tmp_path / "c.npz", **run)))


def test_train_then_resume_evaluate_with_long_class_names_and_2000_layers(tmp_path, monkeypatch, capsys):
    """Through the CLI: train saves, then resume and evaluate read what it saved."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    names = np.array(["a" * 100_000, "b" * 99_999 + "é", "c"])
    np.savez(
        "d.npz",
        x_train=rng.random((12, 4)),
        t_train=np.arange(12) % 3,
        x_test=rng.random((6, 4)),
        t_test=np.arange(6) % 3,
        classes=names,
    )
    hidden = ",".join(["1"] * 2000)
    assert (
        main(
            [
                "train",
                "--dataset",
                "d.npz",
                "--hidden",
                hidden,
                "--epochs",
                "1",
                "--batch-size",
                "12",
                "--no-plot",
                "--out",
                "run",
            ]
        )
        == 0
    ), capsys.readouterr().err
    ckpt = checkpoint.load("run/checkpoint.npz")
    assert ckpt.metadata["classes"] == [str(n) for n in names] and len(ckpt.net.params) == 2 * 2001
    capsys.readouterr()
    assert main(["train", "--resume", "run/checkpoint.npz", "--epochs", "2", "--no-plot", "--out", "run2"]) == 0, (
        capsys.readouterr().err
    )
    assert main(["evaluate", "run2/checkpoint.npz", "--out", "eval", "--no-plot"]) == 0, capsys.readouterr().err
    assert math.isfinite(checkpoint.load("run2/checkpoint.npz").history["loss"][-1])
