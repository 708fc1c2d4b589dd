"""zerograd.checkpoint_schema: each header field is checked for type and range before anything is built from it,
so a damaged header is one CheckpointError — never a huge allocation, never a traceback in predict/evaluate/resume."""

import io
import json
import tracemalloc

import numpy as np
import pytest

from zerograd import checkpoint
from zerograd.checkpoint import CheckpointError
from zerograd.nets import MultiLayerNet, TwoLayerNet
from zerograd.optim import Adam


def saved_run(tmp_path):
    net = MultiLayerNet(4, [3], 2, rng=0)
    opt = Adam()
    opt.update(net.params, net.gradient(np.ones((2, 4)), np.array([0, 1])))
    rng = np.random.default_rng(0)
    return checkpoint.save(
        tmp_path / "c.npz",
        net,
        opt,
        epoch=1,
        rng_state=rng.bit_generator.state,
        history={"loss": [2.0], "epoch_loss": [2.0], "train_acc": [0.5], "seconds": [0.1], "iterations_per_epoch": 1},
        train_config={"epochs": 3, "batch_size": 2, "optimizer": "adam", "lr": 0.001},
        metadata={"dataset": "d", "classes": ["a", "b"]},
    )


def edit_header(path, change):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays["header"].tobytes())
    change(header)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    f = io.BytesIO()
    np.savez(f, **arrays)
    path.write_bytes(f.getvalue())


def test_the_saved_run_loads(tmp_path):
    ckpt = checkpoint.load(saved_run(tmp_path))
    assert ckpt.epoch == 1 and type(ckpt.optimizer) is Adam


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda h: h.__setitem__("epoch", -1), "epoch must be an integer in 0.."),
        (lambda h: h.__setitem__("epoch", "3"), "epoch must be an integer"),
        (lambda h: h["rng_state"]["state"].__setitem__("state", -5), "rng_state.state.state"),
        (lambda h: h["rng_state"].__setitem__("bit_generator", "MT19937"), "rng_state.bit_generator"),
        (lambda h: h["train_config"].__setitem__("batch_size", 0), "train_config.batch_size"),
        (lambda h: h["train_config"].__setitem__("lr", float("nan")), "train_config.lr"),
        (lambda h: h["train_config"].__setitem__("sampling", "random"), "train_config.sampling"),
        (lambda h: h["train_config"].__setitem__("optimizer", "lbfgs"), "train_config.optimizer"),
        (lambda h: h["optimizer"]["hyperparameters"].__setitem__("beta1", 2.0), "optimizer: "),
        (lambda h: h["optimizer"]["hyperparameters"].pop("lr"), "optimizer.hyperparameters must be"),
        (lambda h: h["optimizer"].__setitem__("steps", -1), "optimizer.steps"),
        (lambda h: h["optimizer"]["slots"].__setitem__("m", ["W9"]), "matches no stored parameter"),
        (lambda h: h["history"].__setitem__("iterations_per_epoch", 0), "history.iterations_per_epoch"),
        (lambda h: h["history"].__setitem__("loss", 3), "history.loss is unknown"),
        (lambda h: h["metadata"].__setitem__("classes", "ab"), "metadata.classes"),
        (lambda h: h["net"].__setitem__("activation", "tanh"), "net.activation"),
        (lambda h: h["net"].__setitem__("dtype", "float16"), "net.dtype"),
        (lambda h: h["net"].__setitem__("hidden_size_list", [3, 0]), "net.hidden_size_list"),
        (lambda h: h["net"].__setitem__("class", "ResNet"), "net.class"),
    ],
)
def test_a_bad_field_is_named(tmp_path, change, message):
    path = saved_run(tmp_path)
    edit_header(path, change)
    with pytest.raises(CheckpointError, match=message):
        checkpoint.load(path)


@pytest.mark.parametrize(
    "config",
    [
        {"class": "TwoLayerNet", "input_size": 4, "hidden_size": 10**7, "output_size": 10**7},
        {
            "class": "Sequential",
            "layers": [{"type": "Affine", "name": "Affine1", "in_features": 1 << 24, "out_features": 1 << 24}],
            "loss": {"type": "SoftmaxWithLoss"},
        },
    ],
)
def test_a_net_config_larger_than_the_file_is_refused_before_it_is_built(tmp_path, config):
    path = checkpoint.save(tmp_path / "n.npz", TwoLayerNet(4, 3, 2, rng=0))
    edit_header(path, lambda h: h.__setitem__("net", config))
    tracemalloc.start()
    with pytest.raises(CheckpointError, match="parameter values but the file stores 23|needs"):
        checkpoint.load(path)
    assert tracemalloc.get_traced_memory()[1] < 20 * 2**20  # the net would need terabytes
    tracemalloc.stop()


def test_nan_parameters_and_deep_json_are_refused(tmp_path):
    path = checkpoint.save(tmp_path / "n.npz", TwoLayerNet(4, 3, 2, rng=0))
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["param/W1"] = np.full((4, 3), np.nan)
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match="param/W1 holds NaN"):
        checkpoint.load(path)
    arrays["header"] = np.frombuffer(b"[" * 100_000 + b"]" * 100_000, dtype=np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match="not valid JSON"):
        checkpoint.load(path)


def test_a_short_class_list_does_not_break_predict_or_evaluate(tmp_path, capsys, monkeypatch):
    from zerograd.cli import main

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "d.npz",
        x_train=rng.random((10, 784)),
        t_train=np.arange(10) % 3,
        x_test=rng.random((6, 784)),
        t_test=np.arange(6) % 3,
    )
    path = checkpoint.save(
        tmp_path / "c.npz",
        TwoLayerNet(784, 5, 3, rng=0),
        metadata={"classes": ["only one"], "dataset_spec": str(tmp_path / "d.npz")},
    )
    assert main(["evaluate", str(path), "--no-plot"]) == 0
    from PIL import Image

    Image.fromarray((rng.random((28, 28)) * 255).astype(np.uint8)).save(tmp_path / "x.png")
    assert main(["predict", str(path), str(tmp_path / "x.png")]) == 0
    assert "Traceback" not in capsys.readouterr().err


# -- issue 22 item 11: numbers no float can hold, sizes that are not integers --------------------------------------


def header_checkpoints(tmp_path):
    """A run of each kind save writes: optimizer, history, train_config, random layers, BatchNorm, a CNN."""
    from zerograd.convnets import SimpleConvNet
    from zerograd.layers import Affine, BatchNorm, Dropout, Relu
    from zerograd.nets import MultiLayerNetExtend, Sequential
    from zerograd.optim import Momentum

    paths = [saved_run(tmp_path)]
    extend = MultiLayerNetExtend(
        4, [3], 2, use_batchnorm=True, use_dropout=True, weight_decay_lambda=0.1, weight_init_std=0.5, rng=0
    )
    seq = Sequential(Affine.new(4, 3, rng=0), BatchNorm(3), Relu(), Dropout(0.2, rng=0), Affine.new(3, 2, rng=1))
    conv = SimpleConvNet(
        (1, 6, 6),
        conv_param={"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1},
        hidden_size=3,
        output_size=2,
        rng=0,
    )
    for name, net in (("extend", extend), ("seq", seq), ("conv", conv)):
        opt = Momentum(lr=0.1, momentum=0.9)
        opt.update(net.params, {k: np.ones_like(v) for k, v in net.params.items()})
        paths.append(
            checkpoint.save(
                tmp_path / f"{name}.npz",
                net,
                opt,
                epoch=2,
                train_config={
                    "epochs": 3,
                    "batch_size": 2,
                    "optimizer": "momentum",
                    "lr": 0.1,
                    "optimizer_params": {"momentum": 0.9},
                },
                history={"loss": [1.0], "iterations_per_epoch": 1},
            )
        )
    return paths


def test_any_number_field_out_of_float_range_is_a_named_checkpoint_error(tmp_path):
    """10**400 in any number field was an OverflowError from checkpoint_schema._number (train_config.lr,
    net.weight_init_std, optimizer.hyperparameters.*, ...); now each is refused with the field named, or loads."""
    from test_fuzz_files import json_paths

    edits = 0
    for path in header_checkpoints(tmp_path):
        original = path.read_bytes()
        with np.load(path) as z:
            header = json.loads(z["header"].tobytes())
        numbers = [
            p
            for p, v in json_paths(header)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and p[0] != "arrays"
        ]
        assert len(numbers) > 5, numbers
        for field in numbers:
            for value in (10**400, -(10**400), 1e308, -1e308, "x"):

                def change(h, field=field, value=value):
                    parent = h
                    for key in field[:-1]:
                        parent = parent[key]
                    parent[field[-1]] = value

                path.write_bytes(original)
                edit_header(path, change)
                edits += 1
                try:
                    checkpoint.load(path)
                except CheckpointError as err:
                    assert str(path) in str(err) and "\n" not in str(err)
                # any other exception fails the test, naming the field
    assert edits > 300, edits


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda h: h["train_config"].__setitem__("lr", 10**400), "train_config.lr must be a finite number"),
        (lambda h: h["net"].__setitem__("weight_decay_lambda", 10**400), "net.weight_decay_lambda"),
        (lambda h: h["optimizer"]["hyperparameters"].__setitem__("beta1", 10**400), "optimizer.hyperparameters.beta1"),
        (
            lambda h: h["net"]["layers"][0].__setitem__("in_features", 1e308),
            r"net.layers\[0\].in_features must be an "
            "integer",
        ),
        (lambda h: h["net"]["layers"][1].__setitem__("features", "x"), r"net.layers\[1\].features must be an integer"),
    ],
)
def test_the_issue_s_header_edits_are_named(tmp_path, change, message):
    from zerograd.layers import Affine, BatchNorm
    from zerograd.nets import Sequential

    path = saved_run(tmp_path)
    if "layers" in message:
        checkpoint.save(path, Sequential(Affine.new(4, 3, rng=0), BatchNorm(3), Affine.new(3, 2, rng=1)))
    edit_header(path, change)
    with pytest.raises(CheckpointError, match=message):
        checkpoint.load(path)


def test_negative_running_variances_are_refused(tmp_path):
    """BatchNorm takes their square root at inference: a loaded net would predict NaN (the 5,000-case fuzz found it)."""
    from zerograd.nets import MultiLayerNetExtend

    net = MultiLayerNetExtend(4, [3], 2, use_batchnorm=True, rng=0)
    net.buffers["running_var1"][...] = [1.0, -1e30, 0.5]
    path = checkpoint.save(tmp_path / "c.npz", net)
    with pytest.raises(CheckpointError, match="buffer/running_var1 holds negative variances"):
        checkpoint.load(path)
