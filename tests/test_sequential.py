"""Sequential nets of any layers, chapter 6's BatchNormalization and Dropout, and the one walk through the layers."""

import copy

import numpy as np
import pytest
from conftest import optional

from zerograd import checkpoint
from zerograd.gradcheck import check_layer, check_net
from zerograd.layers import Affine, BatchNorm, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss
from zerograd.nets import MultiLayerNet, MultiLayerNetExtend, Sequential, TwoLayerNet, net_from_config

# float64 central differences with h = 1e-6 on O(1) outputs: rounding ~1e-10, truncation ~1e-12; the bar
# is a relative error of 1e-6.
RTOL, ATOL = 1e-6, 1e-10


def _batch(n=6, d=7, c=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, c, n)


# -- the layers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 4), (3, 2, 3, 2)])
@pytest.mark.parametrize("train_flg", [True, False])
def test_batchnorm_backward_matches_central_differences(shape, train_flg):
    rng = np.random.default_rng(1)
    features = int(np.prod(shape[1:]))
    layer = BatchNormalization(
        rng.uniform(0.5, 1.5, features),
        rng.standard_normal(features),
        running_mean=rng.standard_normal(features),
        running_var=rng.uniform(0.5, 2, features),
    )
    report = check_layer(layer, rng.standard_normal(shape) * 2 + 1, train_flg=train_flg, rtol=RTOL, atol=ATOL)
    assert report.passed, f"\n{report}"
    assert [c.name for c in report] == ["x", "gamma", "beta"]


@pytest.mark.parametrize("train_flg", [True, False])
def test_dropout_backward_matches_central_differences_with_its_mask_held(train_flg):
    rng = np.random.default_rng(2)
    layer = Dropout(0.4, rng=3)
    report = check_layer(layer, rng.standard_normal((6, 5)), train_flg=train_flg, rtol=RTOL, atol=ATOL)
    assert report.passed, f"\n{report}"


def test_batchnorm_forward_statistics_and_running_averages():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((50, 3)) * [1.0, 2.0, 5.0] + [0.0, -1.0, 3.0]
    bn = BatchNorm(3)
    out = bn.forward(x, train_flg=True)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-6), rtol=1e-12)  # biased var
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0), rtol=1e-12)  # 0.9 * 0 + 0.1 * mean
    np.testing.assert_allclose(bn.running_var, 0.1 * x.var(axis=0), rtol=1e-12)
    test = bn.forward(x[:2], train_flg=False)  # inference: the running statistics, not the batch's
    np.testing.assert_allclose(test, (x[:2] - bn.running_mean) / np.sqrt(bn.running_var + 1e-6), rtol=1e-12)


def test_dropout_keeps_the_expected_fraction_and_scales_at_inference():
    x = np.ones((200, 100), dtype=np.float32)
    layer = Dropout(0.3, rng=5)
    out = layer.forward(x, train_flg=True)
    assert out.dtype == np.float32
    assert abs(out.mean() - 0.7) < 0.01  # 20,000 draws: the kept fraction is 0.7 ± 0.003 (1 sd)
    np.testing.assert_array_equal(layer.backward(np.full_like(x, 2.0)), 2.0 * layer.mask)
    np.testing.assert_allclose(layer.forward(x, train_flg=False), 0.7, rtol=1e-6)
    again = Dropout(0.3, rng=5).forward(x, train_flg=True)
    np.testing.assert_array_equal(out, again)  # an explicit rng: the same masks


@pytest.mark.parametrize("layer", [BatchNorm(4, dtype=np.float32), Dropout(0.5, rng=0)])
def test_mode_dependent_layers_keep_float32_and_never_write_their_arguments(layer):
    x = np.random.default_rng(6).standard_normal((5, 4)).astype(np.float32)
    x_before = x.copy()
    out = layer.forward(x, train_flg=True)
    dout = np.ones_like(out)
    dx = layer.backward(dout)
    assert out.dtype == dx.dtype == np.float32
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, 1.0)
    with pytest.raises(ValueError, match="train_flg=True"):
        layer.forward(x)  # a mode-dependent layer called without a mode


def test_batchnorm_agrees_with_pytorch():
    torch = optional("torch", "torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, 5))
    gamma, beta = rng.uniform(0.5, 2, 5), rng.standard_normal(5)
    dout = rng.standard_normal((8, 5))
    bn = BatchNormalization(gamma.copy(), beta.copy())
    out = bn.forward(x, train_flg=True)
    dx = bn.backward(dout)

    xt = torch.tensor(x, requires_grad=True)
    gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    rm, rv = torch.zeros(5, dtype=torch.float64), torch.ones(5, dtype=torch.float64)
    # torch's momentum is the weight of the new batch: the book's 0.9 is torch's 0.1
    yt = torch.nn.functional.batch_norm(xt, rm, rv, gt, bt, training=True, momentum=0.1, eps=1e-6)
    yt.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.dgamma, gt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.dbeta, bt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.running_mean, rm.numpy(), rtol=1e-12)
    # torch keeps the *unbiased* variance in its running average; the book keeps the biased one
    np.testing.assert_allclose(bn.running_var, 0.1 * x.var(axis=0), rtol=1e-12)


# -- Sequential ----------------------------------------------------------------------------------------------


def _extend_net(**kwargs):
    return Sequential(
        Affine.new(7, 6, rng=0),
        BatchNorm(6),
        Relu(),
        Dropout(0.3, rng=1),
        Affine.new(6, 5, rng=2),
        Sigmoid(),
        Affine.new(5, 4, rng=3),
        **kwargs,
    )


def test_layers_are_named_like_the_books_and_params_are_the_layers_arrays():
    net = _extend_net()
    assert list(net.layers) == ["Affine1", "BatchNorm1", "Relu1", "Dropout1", "Affine2", "Sigmoid1", "Affine3"]
    assert list(net.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "W3", "b3"]
    assert list(net.buffers) == ["running_mean1", "running_var1"]
    assert net.params["gamma1"] is net.layers["BatchNorm1"].gamma
    assert net.owner("W2") == ("Affine2", net.layers["Affine2"])
    assert isinstance(net.last_layer, SoftmaxWithLoss)
    named = Sequential(("fc", Affine.new(3, 2)), ("act", Relu()), ("out", Affine.new(2, 2)))
    assert list(named.layers) == ["fc", "act", "out"] and list(named.params) == ["W1", "b1", "W2", "b2"]


@pytest.mark.parametrize("weight_decay", [0.0, 0.2])
@pytest.mark.parametrize("mode", ["exhaustive", "loop", "fast"])
def test_check_net_on_batchnorm_and_dropout_nets(mode, weight_decay):
    net = _extend_net(weight_decay_lambda=weight_decay)
    x, t = _batch()
    report = check_net(net, x, t, mode=mode, rtol=RTOL, atol=ATOL)
    assert report.passed, f"\n{report}"
    methods = {c.name: c.method for c in report}
    if mode == "exhaustive":
        # W2, b2, W3, b3 lie above the Dropout, so only samplewise layers follow them: batched; the rest: loop
        assert methods == {
            "W1": "loop",
            "b1": "loop",
            "gamma1": "loop",
            "beta1": "loop",
            "W2": "batched",
            "b2": "batched",
            "W3": "batched",
            "b3": "batched",
        }
    else:
        assert set(methods.values()) == {"loop" if mode == "loop" else "direction"}


def test_check_net_catches_a_wrong_batchnorm_backward():
    class ForgetsTheMeanPath(BatchNormalization):
        def backward(self, dout):
            super().backward(dout)
            return self.gamma * dout / self.std  # the inference-mode formula, wrong in training

    net = Sequential(Affine.new(7, 6, rng=0), ForgetsTheMeanPath(6), Relu(), Affine.new(6, 4, rng=1))
    x, t = _batch()
    report = check_net(net, x, t)
    assert not report.passed
    assert not report["W1"].passed and report["W2"].passed


def test_the_chapters_nets_keep_the_batched_check():
    x, t = _batch(d=12)
    report = check_net(MultiLayerNet(12, [8, 6], 4, weight_init_std="he", rng=1), x, t)
    assert report.passed and {c.method for c in report} == {"batched"}


def test_gradient_runs_in_training_mode_and_eval_mode_switches_it():
    net = _extend_net()
    x, t = _batch()
    net.gradient(x, t)
    assert net.layers["Dropout1"].train_flg is True and net.layers["BatchNorm1"].train_flg is True
    net.eval()
    grads = net.gradient(x, t)
    assert net.layers["Dropout1"].train_flg is False
    assert check_net(net, x, t).passed and set(grads) == set(net.params)
    net.train()
    assert net.training


def test_book_style_in_place_update_trains_a_batchnorm_dropout_net():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((60, 7))
    t = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0)
    net = _extend_net()
    first = net.loss(x, t)
    for _ in range(300):
        grads = net.gradient(x, t)
        for key in net.params:
            net.params[key] -= 0.1 * grads[key]
    assert net.loss(x, t) < 0.5 * first
    assert net.accuracy(x, t) > 0.7  # chance is 0.25


def test_a_users_own_layer_trains_checks_and_saves(tmp_path):
    class Scale:
        """A book-style layer of a user's: y = x * w, one weight per feature, no param_names."""

        def __init__(self, n):
            self.w = np.ones(n)
            self.W = self.w  # the book's convention: a parameter W with its gradient dW
            self.x = None

        def forward(self, x):
            self.x = x
            return x * self.W

        def backward(self, dout):
            self.dW = np.sum(dout * self.x, axis=0)  # d(x*w)/dw = x
            return dout * self.W  # d(x*w)/dx = w

    net = Sequential(Affine.new(7, 5, rng=0), Scale(5), Relu(), Affine.new(5, 4, rng=1), weight_decay_lambda=0.1)
    assert list(net.params) == ["W1", "b1", "W2", "W3", "b2"]  # counted per name
    net.params["W2"][:] = np.linspace(0.5, 1.5, 5)
    x, t = _batch()
    assert check_net(net, x, t).passed
    path = checkpoint.save(tmp_path / "own.npz", net)
    with pytest.raises(checkpoint.CheckpointError, match="Scale of your own.*net="):
        checkpoint.load(path)
    fresh = Sequential(Affine.new(7, 5, rng=9), Scale(5), Relu(), Affine.new(5, 4, rng=9), weight_decay_lambda=0.1)
    loaded = checkpoint.load(path, net=fresh).net
    assert loaded is fresh
    np.testing.assert_array_equal(fresh.params["W2"], net.params["W2"])
    np.testing.assert_array_equal(fresh.predict(x), net.predict(x))
    other = Sequential(Affine.new(7, 5), Scale(5), Relu(), Affine.new(5, 3))
    with pytest.raises(checkpoint.CheckpointError, match="W3.*needs"):
        checkpoint.load(path, net=other)


def test_sequential_checkpoint_round_trip_keeps_running_statistics(tmp_path):
    net = _extend_net(weight_decay_lambda=0.05).astype(np.float32)
    x, t = _batch()
    for _ in range(3):
        net.gradient(x, t)  # moves the running statistics
    path = checkpoint.save(tmp_path / "net.npz", net)
    loaded = checkpoint.load(path).net
    assert type(loaded) is Sequential and loaded.config() == net.config()
    assert loaded.dtype == np.float32
    for key in (*net.params, *net.buffers):
        a = net.params.get(key, net.buffers.get(key))
        b = loaded.params.get(key, loaded.buffers.get(key))
        np.testing.assert_array_equal(a, b, err_msg=key)
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
    assert np.any(net.buffers["running_var1"] != 0)


def test_multi_layer_net_extend_round_trips_and_rebuilds_from_config(tmp_path):
    net = MultiLayerNetExtend(7, [6, 5], 4, use_batchnorm=True, use_dropout=True, dropout_ration=0.25, rng=3)
    assert list(net.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    rebuilt = net_from_config(net.config())
    assert type(rebuilt) is MultiLayerNetExtend and rebuilt.config() == net.config()
    x, t = _batch()
    net.gradient(x, t)
    loaded = checkpoint.load(checkpoint.save(tmp_path / "e.npz", net)).net
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
    # the dropout generators travel with the checkpoint: the next masks are the same
    net.gradient(x, t), loaded.gradient(x, t)
    np.testing.assert_array_equal(loaded.layers["Dropout2"].mask, net.layers["Dropout2"].mask)


def test_builders_give_the_same_numbers_as_drawing_the_weights_by_hand():
    rng = np.random.default_rng(11)
    expected = {
        "W1": np.sqrt(2 / 12) * rng.standard_normal((12, 8)),
        "W2": np.sqrt(2 / 8) * rng.standard_normal((8, 4)),
    }
    net = MultiLayerNet(12, [8], 4, weight_init_std="he", rng=11)
    for key, value in expected.items():
        np.testing.assert_array_equal(net.params[key], value)
    ext = MultiLayerNetExtend(12, [8], 4, weight_init_std="he", rng=11)
    np.testing.assert_array_equal(ext.params["W2"], expected["W2"])
    two = TwoLayerNet(12, 8, 4, rng=11)
    rng = np.random.default_rng(11)
    np.testing.assert_array_equal(two.params["W1"], 0.01 * rng.standard_normal((12, 8)))


def test_replacing_a_layer_in_the_dict_is_seen_by_the_walk():
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, rng=0)
    x, t = _batch(d=6, c=3)
    net.layers["Relu1"] = Sigmoid()
    manual = net.layers["Affine2"].forward(Sigmoid().forward(net.layers["Affine1"].forward(x)))
    np.testing.assert_allclose(net.predict(x), manual)


# -- bad input -----------------------------------------------------------------------------------------------


def test_bad_layer_lists_get_one_line_errors_naming_the_layer():
    with pytest.raises(TypeError, match=r"layer 2 \(str1\) is a str without forward\(\) and backward\(\)"):
        Sequential(Affine.new(3, 2), "relu")
    with pytest.raises(ValueError, match="two layers are named 'a'"):
        Sequential(("a", Relu()), ("a", Relu()))
    with pytest.raises(ValueError, match="loss layer SoftmaxWithLoss1.*must be last"):
        Sequential(Affine.new(3, 2), SoftmaxWithLoss(), Relu())
    with pytest.raises(ValueError, match="Affine2 expects 5 features per sample but BatchNorm1 gives 4"):
        Sequential(Affine.new(3, 4), BatchNorm(4), Relu(), Affine.new(5, 2))
    with pytest.raises(ValueError, match="BatchNorm1 expects 4 features per sample but Affine1 gives 3"):
        Sequential(Affine.new(2, 3), BatchNorm(4))
    with pytest.raises(ValueError, match="dropout_ratio must be in"):
        Dropout(1.0)
    with pytest.raises(ValueError, match="weight_decay_lambda"):
        Sequential(Affine.new(3, 2), weight_decay_lambda=float("inf"))


def test_a_bad_forward_leaves_the_net_unchanged():
    net = _extend_net()
    before = copy.deepcopy({k: v.copy() for k, v in {**net.params, **net.buffers}.items()})
    with pytest.raises(ValueError, match="Sequential expects x of shape"):
        net.gradient(np.zeros((4, 8)), np.zeros(4, dtype=int))
    for key, value in {**net.params, **net.buffers}.items():
        np.testing.assert_array_equal(value, before[key])


def test_a_checkpoint_whose_layer_specs_do_not_match_is_refused(tmp_path):
    net = _extend_net()
    path = checkpoint.save(tmp_path / "a.npz", net)
    with pytest.raises(checkpoint.CheckpointError, match="the given Sequential"):
        checkpoint.load(path, net=Sequential(Affine.new(7, 6), Relu(), Affine.new(6, 4)))
    config = net.config()
    config["layers"][1] = {"name": "BatchNorm1", "type": "Convolution9"}
    with pytest.raises(ValueError, match="unknown layer type 'Convolution9'"):
        net_from_config(config)


def test_batchnorm_learns_where_the_same_net_without_it_stalls_on_real_digits():
    """The book's figure 6-18 at a small initial scale: [100]*5, SGD lr 0.01, 1,000 digits, 200 batches of 100."""
    from zerograd.datasets import load_dataset
    from zerograd.optim import SGD

    ds = load_dataset("mnist-sample", dtype=np.float64)
    x, t = ds.x_train[:1000], ds.t_train[:1000]
    accuracies = {}
    for use_batchnorm in (False, True):
        net = MultiLayerNetExtend(784, [100] * 5, 10, weight_init_std=0.01, use_batchnorm=use_batchnorm, rng=0)
        rng, optimizer = np.random.default_rng(1), SGD(lr=0.01)
        for _ in range(200):
            idx = rng.choice(1000, 100)
            optimizer.update(net.params, net.gradient(x[idx], t[idx]))
        accuracies[use_batchnorm] = net.accuracy(x, t)
    assert accuracies[True] > 0.9, accuracies  # measured 1.0 (training accuracy on the 1,000)
    assert accuracies[False] < 0.25, accuracies  # measured 0.118: the signal vanishes through five small layers
