"""What an epoch measures, cheaply: the running training accuracy, an evaluated sample, eval_every, and the nets'
inference walk (the same logits as predict, to the bit, with nothing kept for backward)."""

import copy
import math

import numpy as np
import pytest

from zerograd.convnets import SimpleConvNet
from zerograd.layers import Affine, BatchNormalization, Dropout, Relu
from zerograd.nets import MultiLayerNetExtend, Sequential, TwoLayerNet
from zerograd.run import RunSpec, write_metrics
from zerograd.train import TrainConfig, Trainer, train_accuracy_source


def noisy_blobs(n=300, d=6, classes=4, seed=0):
    """Overlapping clusters: the accuracy stays well below 1, so running and evaluated figures differ."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, classes, n)
    x = (rng.standard_normal((classes, d))[t] + 1.5 * rng.standard_normal((n, d))).astype(np.float32)
    return x, t


def test_running_accuracy_is_that_of_each_batch_before_its_update():
    x, t = noisy_blobs()
    net = TwoLayerNet(6, 12, 4, weight_init_std="he", dtype=np.float32, rng=1)
    replay = copy.deepcopy(net)
    config = TrainConfig(epochs=1, batch_size=32, lr=0.2, seed=3)
    trainer = Trainer(net, config, x, t)
    trainer.fit()
    # the same epoch by hand: the trainer's permutation, each batch predicted (train mode) before its update
    order = np.random.default_rng(3).permutation(len(x))
    correct = 0
    optimizer = config.make_optimizer()
    for start in range(0, len(x), 32):
        idx = order[start : start + 32]
        grads = replay.gradient(x[idx], t[idx])
        correct += int(np.sum(np.argmax(replay.predict(x[idx], train_flg=True), axis=1) == t[idx]))
        optimizer.update(replay.params, grads)
    assert trainer.train_acc_on == "running"
    assert trainer.history.train_acc == [correct / len(x)]
    assert trainer.history.train_acc[0] != net.accuracy(x, t)  # not the end-of-epoch pass it replaces


def test_evaluated_accuracy_on_a_named_sample():
    x, t = noisy_blobs()
    net = TwoLayerNet(6, 12, 4, weight_init_std="he", dtype=np.float32, rng=1)
    trainer = Trainer(net, TrainConfig(epochs=2, batch_size=32, eval_train_samples=100), x, t)
    trainer.fit()
    assert trainer.config.train_accuracy == "evaluated" and trainer.train_acc_on == "first 100"
    assert trainer.history.train_acc[-1] == net.accuracy(x[:100], t[:100])
    everything = TrainConfig(train_accuracy="evaluated")
    assert train_accuracy_source(everything, 300) == "all 300" and train_accuracy_source(everything) == "all"


def test_a_net_without_a_softmax_to_read_is_evaluated_instead():
    class Plain:  # a net of your own: gradient and accuracy, no last_layer
        params = {"w": np.zeros(1)}

        def gradient(self, x, t):
            return {"w": np.zeros(1)}

        def loss(self, x, t):
            return 1.0

        def accuracy(self, x, t, batch_size=None):
            return 0.25

    trainer = Trainer(Plain(), TrainConfig(epochs=1), *noisy_blobs())
    trainer.fit()
    assert trainer.train_acc_on == "all 300" and trainer.history.train_acc == [0.25]


def test_eval_every_skips_epochs_but_never_the_last(tmp_path):
    x, t = noisy_blobs()
    net = TwoLayerNet(6, 12, 4, weight_init_std="he", dtype=np.float32, rng=1)
    config = TrainConfig(epochs=5, batch_size=50, eval_every=2, eval_train_samples=50)
    trainer = Trainer(net, config, x[:200], t[:200], x[200:], t[200:])
    h = trainer.fit()
    evaluated = [not math.isnan(v) for v in h.test_acc]
    assert evaluated == [False, True, False, True, True]
    assert [not math.isnan(v) for v in h.train_acc] == evaluated
    write_metrics(tmp_path / "metrics.csv", h, trainer.train_acc_on)
    rows = [row.split(",") for row in (tmp_path / "metrics.csv").read_text().splitlines()]
    assert rows[0][-1] == "train_acc_on" and rows[1][-1] == "first 50"
    assert rows[1][2:4] == ["", ""] and rows[2][3] == f"{h.test_acc[1]:.6f}"


def test_a_config_saved_before_train_accuracy_existed_keeps_evaluating():
    old = {k: v for k, v in TrainConfig().to_dict().items() if k not in ("train_accuracy", "eval_every")}
    assert TrainConfig.from_dict(old).train_accuracy == "evaluated"
    assert TrainConfig.from_dict(TrainConfig().to_dict()).train_accuracy == "running"
    with pytest.raises(ValueError, match="train_accuracy must be one of"):
        TrainConfig(train_accuracy="sometimes")


def test_runspec_carries_the_evaluation_settings_into_a_resumed_run(tmp_path):
    from zerograd.run import RunData

    x, t = noisy_blobs()
    data = RunData(x[:200], t[:200], x[200:], t[200:], num_classes=4)
    spec = RunSpec(
        dataset="mnist-sample",
        hidden=(8,),
        epochs=2,
        batch_size=50,
        eval_every=2,
        eval_train_samples=40,
        out=str(tmp_path),
    )
    spec.run(data=data)
    resumed = RunSpec.from_checkpoint(tmp_path / "checkpoint.npz", epochs=3)
    assert (resumed.eval_every, resumed.eval_train_samples, resumed.train_accuracy) == (2, 40, "evaluated")
    assert (tmp_path / "metrics.csv").read_text().splitlines()[1].endswith(",first 40")


def small_convnet(classes):
    """SimpleConvNet on 10x10 images: 4 filters of 3x3, an Affine of 8, He initialisation, float32."""
    conv_param = {"filter_num": 4, "filter_size": 3, "pad": 0, "stride": 1}
    return SimpleConvNet(
        (1, 10, 10),
        conv_param=conv_param,
        hidden_size=8,
        output_size=classes,
        weight_init_std="he",
        dtype=np.float32,
        rng=0,
    )


def nets():
    rng = np.random.default_rng(0)
    extend = MultiLayerNetExtend(
        12, [16, 16], 5, use_batchnorm=True, use_dropout=True, dropout_ration=0.3, dtype=np.float32, rng=0
    )
    for layer in extend.layers.values():  # running statistics that are not the initial zeros and ones
        if isinstance(layer, BatchNormalization):
            layer.running_mean[...] = rng.standard_normal(layer.features)
            layer.running_var[...] = rng.random(layer.features) + 0.5
    conv = small_convnet(classes=5)
    return [
        (extend, rng.standard_normal((7, 12)).astype(np.float32)),
        (conv, rng.standard_normal((7, 1, 10, 10)).astype(np.float32)),
        (TwoLayerNet(12, 9, 5, dtype=np.float64, rng=0), rng.standard_normal((7, 12))),
    ]


@pytest.mark.parametrize("net,x", nets(), ids=["batchnorm+dropout", "convnet", "twolayer"])
def test_infer_is_predict_to_the_bit(net, x):
    assert np.array_equal(net.infer(x), net.predict(x))


def test_infer_keeps_nothing_for_backward():
    net = Sequential(Affine.new(4, 6, rng=0), Relu(), Dropout(0.5, rng=0), Affine.new(6, 3, rng=1))
    x, t = np.ones((5, 4)), np.array([0, 1, 2, 0, 1])
    net.gradient(x, t)
    kept = {name: dict(vars(layer)) for name, layer in net.layers.items()}
    net.infer(np.zeros((9, 4)))
    for name, layer in net.layers.items():
        for attr, value in kept[name].items():
            assert getattr(layer, attr) is value, f"{name}.{attr} changed"


def test_convnet_infer_lets_go_of_its_columns():
    net, x = nets()[1]
    net.infer(x)
    assert net.layers["Conv1"].col is None and net.layers["Pool1"].arg_h is None
