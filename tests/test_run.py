"""RunSpec: one validated description of a run, made from a dict, from the CLI's arguments or from a checkpoint,
built into the same net whichever way it came, trained by ``run()`` with callbacks."""

import argparse

import numpy as np
import pytest

from zerograd.checkpoint import load
from zerograd.run import Checkpointing, RunCallback, RunData, RunSpec
from zerograd.validators import OptionError, RunError


def _data(n=120, features=16, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, features), dtype=np.float32)
    t = rng.integers(0, classes, size=n)
    return RunData(x, t, x[:40], t[:40], num_classes=classes, name="random")


def test_defaults_are_the_chapters_run():
    spec = RunSpec()
    assert (spec.net, spec.optimizer, spec.lr, spec.batch_size, spec.epochs, spec.seed) == (
        "mlp",
        "sgd",
        0.1,
        100,
        17,
        0,
    )
    assert RunSpec(net="convnet").optimizer == "adam"  # the book trains its CNNs with Adam
    assert type(spec.build_net(784, 10)).__name__ == "TwoLayerNet"
    assert type(RunSpec(hidden="100,100").build_net(784, 10)).__name__ == "MultiLayerNet"
    assert type(RunSpec(dropout=0.2).build_net(784, 10)).__name__ == "MultiLayerNetExtend"


@pytest.mark.parametrize(
    "values,field",
    [
        ({"epochs": 0}, "epochs"),
        ({"lr": -1}, "lr"),
        ({"hidden": "10,x"}, "hidden"),
        ({"dropout": 1.0}, "dropout"),
        ({"seed": 2**32}, "seed"),
        ({"optimizer": "lion"}, "optimizer"),
        ({"net": "resnet"}, "net"),
        ({"init": "lecun"}, "init"),
        ({"batchnorm": "yes"}, "batchnorm"),
        ({"sampling": "random"}, "sampling"),
        ({"net": "convnet", "hidden": "10,10"}, "hidden"),
        ({"net": "deepconvnet", "init": 0.1}, "init"),
        ({"net": "convnet", "dropout": 0.5}, "batchnorm"),
        ({"epoch": 3}, "epoch"),
        ({"init": 0}, "init"),
    ],
)
def test_from_dict_names_the_bad_field(values, field):
    with pytest.raises(OptionError) as err:
        RunSpec.from_dict(values)
    assert err.value.option == field and str(err.value).startswith(field)
    assert "\n" not in str(err.value)


def test_from_dict_round_trip_and_frozen():
    spec = RunSpec.from_dict(
        {
            "hidden": [30, 20],
            "init": "HE",
            "optimizer_params": {"momentum": 0.8},
            "optimizer": "momentum",
            "init_seed": [4, 5],
        }
    )
    assert spec.hidden == (30, 20) and spec.init == "he" and spec.lr == 0.01  # Momentum's default rate
    assert RunSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(AttributeError):
        spec.epochs = 3  # type: ignore[misc]
    with pytest.raises(OptionError, match="^epochs"):
        spec.replace(epochs=-2)


def test_from_args_names_flags_and_refuses_changes_on_resume():
    args = argparse.Namespace(
        dataset=None,
        root=None,
        net="convnet",
        hidden="100,100",
        activation=None,
        init=None,
        batchnorm=None,
        dropout=None,
        optimizer=None,
        lr=None,
        batch_size=None,
        sampling=None,
        weight_decay=None,
        dtype=None,
        seed=None,
        max_classes=None,
        epochs=None,
        resume=None,
    )
    with pytest.raises(OptionError, match="^--hidden for --net convnet is one width"):
        RunSpec.from_args(args)
    args.hidden, args.batch_size = None, 0
    with pytest.raises(OptionError, match="^--batch-size must be a positive integer, got 0"):
        RunSpec.from_args(args)
    args.batch_size, args.resume = 10, "x.npz"
    with pytest.raises(OptionError, match="^--resume .*--net, --batch-size cannot change it"):
        RunSpec.from_args(args)


def test_same_spec_same_net_whichever_way_it_came():
    """The browser's settings, a dict and the CLI's defaults describe one net: identical initial weights."""
    from zerograd.serve.training import TrainSettings

    browser = TrainSettings.from_json({"hidden": 20, "seed": 3}).spec().build_net(16, 3)
    cli_like = RunSpec(hidden=(20,), seed=3).build_net(16, 3)
    for name, value in cli_like.params.items():
        np.testing.assert_array_equal(browser.params[name], value)


def test_run_trains_calls_back_and_saves_each_epoch(tmp_path):
    seen = []

    class Watch(RunCallback):
        def on_start(self, run):
            seen.append(("start", run.trainer.epoch, run.data.name))

        def on_batches(self, trainer, n):
            seen.append(("batches", n))

        def on_epoch(self, trainer):
            seen.append(("epoch", trainer.epoch))

    spec = RunSpec(hidden=(8,), epochs=2, batch_size=30, lr=0.5, out=str(tmp_path / "run"))
    trainer = spec.run(callbacks=[Watch(), lambda t: seen.append(("plain", t.epoch))], data=_data())
    assert seen[0] == ("start", 0, "random")
    assert [e for e in seen if e[0] in ("epoch", "plain")] == [("epoch", 1), ("plain", 1), ("epoch", 2), ("plain", 2)]
    assert sum(e[1] for e in seen if e[0] == "batches") == 2 * 4  # every iteration reported: 120 / 30 per epoch
    saved = load(tmp_path / "run" / "checkpoint.npz")  # out set: a Checkpointing was added
    assert saved.epoch == 2 and saved.train_config["lr"] == 0.5
    assert (tmp_path / "run" / "metrics.csv").read_text().count("\n") == 3
    assert trainer.history.test_acc and len(trainer.history.loss) == 8


def test_resume_from_checkpoint_is_bit_exact(tmp_path):
    data = _data()
    whole = RunSpec(hidden=(8,), epochs=3, batch_size=25, optimizer="adam", seed=5).run(data=data)
    first = RunSpec(hidden=(8,), epochs=1, batch_size=25, optimizer="adam", seed=5, out=str(tmp_path))
    first.run(data=data)
    resumed = RunSpec.from_checkpoint(tmp_path / "checkpoint.npz", epochs=3)
    assert (resumed.optimizer, resumed.batch_size, resumed.seed, resumed.epochs) == ("adam", 25, 5, 3)
    trainer = resumed.run(data=data, callbacks=[Checkpointing(tmp_path / "again")])
    assert trainer.history.loss == whole.history.loss
    for name, value in whole.net.params.items():
        np.testing.assert_array_equal(trainer.net.params[name], value)


def test_resume_refuses_data_that_does_not_fit(tmp_path):
    RunSpec(hidden=(8,), epochs=1, out=str(tmp_path)).run(data=_data())
    spec = RunSpec.from_checkpoint(tmp_path / "checkpoint.npz", epochs=2)
    with pytest.raises(RunError, match="the saved net takes 16 features"):
        spec.build(data=_data(features=25))
    with pytest.raises(RunError, match="missing.npz: no such checkpoint file"):
        RunSpec.from_checkpoint(tmp_path / "missing.npz")


def test_zerograd_train_without_flags_is_runspec_defaults(tmp_path):
    from zerograd.cli import build_parser

    args = build_parser().parse_args(["train"])
    assert RunSpec.from_args(args) == RunSpec()
    args = build_parser().parse_args(["train", "--hidden", "30,20", "--optimizer", "adam", "--batchnorm"])
    assert RunSpec.from_args(args, out=tmp_path) == RunSpec(
        hidden=(30, 20), optimizer="adam", batchnorm=True, out=str(tmp_path)
    )


def test_cli_prints_a_bad_option_as_one_line_before_loading_data(tmp_path, capsys):
    from zerograd.cli import main

    assert main(["train", "--init", "0", "--dataset", "nowhere.npz", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "zerograd train: error: --init must be above 0: weights that all start at zero never learn apart"
    assert not (tmp_path / "r").exists()
