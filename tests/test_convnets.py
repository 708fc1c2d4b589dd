"""SimpleConvNet and DeepConvNet: the book's names and shapes, gradients, checkpoints, the book's classes, errors.

Gradient tolerances as tests/test_nets.py: check_net in float64 (h = 1e-5), max relative error <= 1e-6. Inputs are
random normal, so no ReLU input or pooled maximum lies within h of a kink.
"""

import pickle

import numpy as np
import pytest

from zerograd import checkpoint
from zerograd.convnets import DeepConvNet, SimpleConvNet
from zerograd.engine.threads import blas_threads_for
from zerograd.gradcheck import check_net
from zerograd.nets import net_from_config

SMALL_DEEP = dict(
    input_dim=(1, 8, 8),
    conv_param_1={"filter_num": 2, "filter_size": 3, "pad": 1},
    conv_param_2={"filter_num": 2, "filter_size": 3, "pad": 1},
    conv_param_3={"filter_num": 3, "filter_size": 3, "pad": 1},
    conv_param_4={"filter_num": 3, "filter_size": 3, "pad": 1},
    conv_param_5={"filter_num": 4, "filter_size": 3, "pad": 1},
    conv_param_6={"filter_num": 4, "filter_size": 3, "pad": 1},
    hidden_size=5,
    output_size=3,
)


def small_simple(**kwargs):
    return SimpleConvNet(
        input_dim=(2, 8, 6),
        conv_param={"filter_num": 3, "filter_size": 3, "pad": 1, "stride": 1},
        hidden_size=6,
        output_size=4,
        weight_init_std="he",
        rng=0,
        **kwargs,
    )


def test_simple_convnet_has_the_books_layers_and_parameters():
    net = SimpleConvNet(rng=0)
    assert list(net.layers) == ["Conv1", "Pool1", "Relu1", "Affine1", "Relu2", "Affine2"]  # pooling first
    assert list(SimpleConvNet(rng=0, pool_before_relu=False).layers) == [
        "Conv1",
        "Relu1",
        "Pool1",
        "Affine1",
        "Relu2",
        "Affine2",
    ]  # the book's order
    assert {k: v.shape for k, v in net.params.items()} == {
        "W1": (30, 1, 5, 5),
        "b1": (30,),
        "W2": (4320, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert net.params["W1"] is net.layers["Conv1"].W  # the layers use the very arrays
    assert net.params["W1"].std() == pytest.approx(0.01, rel=0.1)  # the book's weight_init_std
    assert net.input_size == 784 and net.output_size == 10


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pooling_before_the_relu_gives_the_books_outputs_and_gradients_exactly(dtype):
    # max(relu(x)) = relu(max(x)), and dout reaches the same element in both orders; ties included: whole
    # windows of negatives (all zero after a ReLU) and repeated positive values
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 1, 28, 28)).astype(dtype)
    x[:, :, :8, :8] = -1.0  # conv outputs with ties
    x[:, :, 10:14, 10:14] = 0.5
    t = rng.integers(0, 10, 6)
    pool_first = SimpleConvNet(dtype=dtype, weight_init_std="he", rng=2)
    book_order = SimpleConvNet(dtype=dtype, weight_init_std="he", rng=2, pool_before_relu=False)
    pool_first.layers["Conv1"].W[...] = np.abs(pool_first.layers["Conv1"].W)  # equal filter sums make ties
    book_order.layers["Conv1"].W[...] = pool_first.layers["Conv1"].W
    np.testing.assert_array_equal(pool_first.predict(x), book_order.predict(x))
    grads_first, grads_book = pool_first.gradient(x, t), book_order.gradient(x, t)
    for key in grads_book:
        np.testing.assert_array_equal(grads_first[key], grads_book[key], err_msg=key)
    assert book_order.config()["pool_before_relu"] is False
    from zerograd.nets import net_from_config

    assert list(net_from_config(book_order.config()).layers)[1] == "Relu1"  # a checkpoint keeps its order


def test_deep_convnet_has_the_books_layers_and_parameters():
    net = DeepConvNet(rng=0)
    assert [name.rstrip("0123456789") for name in net.layers] == (
        ["Conv", "Relu", "Conv", "Relu", "Pool"] * 3 + ["Affine", "Relu", "Dropout", "Affine", "Dropout"]
    )
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes["W1"] == (16, 1, 3, 3) and shapes["W4"] == (32, 32, 3, 3) and shapes["W6"] == (64, 64, 3, 3)
    assert shapes["W7"] == (64 * 4 * 4, 50) and shapes["W8"] == (50, 10) and len(shapes) == 16
    # He initialisation: sqrt(2 / fan_in), as the book's pre_node_nums
    assert net.params["W6"].std() == pytest.approx(np.sqrt(2 / (64 * 9)), rel=0.05)


def test_simple_convnet_gradients_match_central_differences():
    net = small_simple()
    x = np.random.default_rng(1).standard_normal((3, 2, 8, 6))
    report = check_net(net, x, np.array([0, 1, 3]))
    assert report.passed, f"\n{report}"
    assert [c.name for c in report] == ["W1", "b1", "W2", "b2", "W3", "b3"]


def test_simple_convnet_with_weight_decay_passes_check_net():
    net = small_simple(weight_decay_lambda=0.1)
    report = check_net(net, np.random.default_rng(2).standard_normal((2, 2, 8, 6)), np.array([1, 2]))
    assert report.passed, f"\n{report}"


def test_deep_convnet_gradients_match_central_differences_with_dropout_held():
    net = DeepConvNet(**SMALL_DEEP, rng=0)
    report = check_net(net, np.random.default_rng(2).standard_normal((2, 1, 8, 8)), np.array([0, 2]))
    assert report.passed, f"\n{report}"
    assert len(report.comparisons) == 16


def test_flattened_images_are_accepted_and_wrong_ones_rejected():
    net = SimpleConvNet(rng=0, dtype=np.float32)
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    logits = net.predict(x)
    assert logits.shape == (4, 10) and logits.dtype == np.float32
    np.testing.assert_array_equal(net.predict(x.reshape(4, 784)), logits)
    with pytest.raises(
        ValueError,
        match=r"SimpleConvNet expects images x of shape \(N, 1, 28, 28\) or \(N, 784\), "
        r"got \(4, 3, 28, 28\)",
    ) as info:
        net.predict(np.zeros((4, 3, 28, 28)))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SimpleConvNet(input_dim=(1, 28)), r"input_dim must be \(C, H, W\)"),
        (lambda: SimpleConvNet(conv_param={"filter_size": 5}), "needs filter_num and filter_size"),
        (lambda: SimpleConvNet(conv_param={"filter_num": 30, "filter_size": 5, "stride": 0}), "stride must be"),
        (
            lambda: SimpleConvNet(input_dim=(1, 27, 28)),
            r"SimpleConvNet with input_dim \(1, 27, 28\): Pooling: output height .* = \(23 \+ 2\*0 - 2\) / 2 \+ 1 = 11.5",
        ),
        (lambda: SimpleConvNet(input_dim=(1, 4, 4)), "filter 5x5 is larger than the padded input 4x4"),
        (lambda: SimpleConvNet(weight_init_std="lecun"), "weight init must be a number or one of"),
        (lambda: DeepConvNet(input_dim=(1, 10, 10)), r"DeepConvNet with input_dim \(1, 10, 10\): Pooling"),
    ],
)
def test_nets_that_cannot_fit_fail_when_built_with_one_line(make, message):
    with pytest.raises(ValueError, match=message) as info:
        make()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "make", [lambda: small_simple(dtype=np.float32), lambda: DeepConvNet(**SMALL_DEEP, dtype=np.float32, rng=0)]
)
def test_checkpoint_round_trip(make, tmp_path):
    net = make()
    x = np.random.default_rng(3).standard_normal((3, *net.input_dim)).astype(np.float32)
    path = checkpoint.save(tmp_path / "net.npz", net)
    loaded = checkpoint.load(path).net
    assert type(loaded) is type(net) and loaded.config() == net.config()
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
    assert net_from_config(net.config()).config() == net.config()


def test_one_blas_thread_for_convolutional_nets():
    assert blas_threads_for(SimpleConvNet(rng=0).params.values(), 100) == 1


# -- the book's classes ---------------------------------------------------------------------------------------


def test_book_simple_convnet_uses_the_global_generator_and_the_books_names(tmp_path):
    from zerograd.book.simple_convnet import SimpleConvNet as BookSimpleConvNet

    np.random.seed(0)
    a = BookSimpleConvNet(
        input_dim=(1, 10, 10), conv_param={"filter_num": 4, "filter_size": 3, "pad": 0, "stride": 1}, hidden_size=8
    )
    np.random.seed(0)
    b = BookSimpleConvNet(
        input_dim=(1, 10, 10), conv_param={"filter_num": 4, "filter_size": 3, "pad": 0, "stride": 1}, hidden_size=8
    )
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert a.dtype == np.float64 and a.lastLayer is a.last_layer
    x = np.random.rand(2, 1, 10, 10)
    # labels (N, 1), as the book's chapter-7 gradient check passes them
    grads = a.gradient(x, np.array([[1], [3]]))
    assert grads.keys() == a.params.keys()
    np.testing.assert_array_equal(grads["W1"], a.gradient(x, np.array([1, 3]))["W1"])

    a.params["W1"] += 1.0
    a.save_params(str(tmp_path / "params.pkl"))
    data = (tmp_path / "params.pkl").read_bytes()
    assert data[:2] == b"PK"  # an .npz archive, not a pickle
    with pytest.raises(pickle.UnpicklingError):
        pickle.loads(data)
    b.load_params(str(tmp_path / "params.pkl"))
    for key in a.params:
        np.testing.assert_array_equal(b.params[key], a.params[key])
    np.testing.assert_array_equal(b.predict(x), a.predict(x))
    other = BookSimpleConvNet(
        input_dim=(1, 10, 10), conv_param={"filter_num": 5, "filter_size": 3, "pad": 0, "stride": 1}, hidden_size=8
    )
    with pytest.raises(ValueError, match=r"parameter W1 is \(4, 1, 3, 3\) but this net needs \(5, 1, 3, 3\)"):
        other.load_params(str(tmp_path / "params.pkl"))


def test_book_deep_convnet_loss_is_taken_in_training_mode():
    from zerograd.book.deep_convnet import DeepConvNet as BookDeepConvNet

    np.random.seed(0)
    net = BookDeepConvNet()
    x, t = np.random.rand(4, 1, 28, 28), np.array([1, 2, 3, 4])
    # dropout draws new masks each call in training mode; predict (inference) is deterministic
    assert net.loss(x, t) != net.loss(x, t)
    assert net.loss(x, t, train_flg=False) == net.loss(x, t, train_flg=False)
    assert net.accuracy(x, t) in {0.0, 0.25, 0.5, 0.75, 1.0}
    assert list(net.params) == [f"{p}{i}" for i in range(1, 9) for p in ("W", "b")]


def test_a_sequential_of_your_own_with_conv_layers_round_trips(tmp_path):
    from zerograd.convolution import Convolution, Pooling
    from zerograd.layers import Affine, Relu
    from zerograd.nets import Sequential

    net = Sequential(
        Convolution.new(1, 4, 3, pad=1, rng=0), Relu(), Pooling(2, 2, stride=2), Affine.new(4 * 3 * 3, 5, rng=1)
    )
    assert list(net.layers) == ["Conv1", "Relu1", "Pool1", "Affine1"] and list(net.params) == ["W1", "b1", "W2", "b2"]
    x = np.random.default_rng(0).standard_normal((3, 1, 6, 6))
    assert check_net(net, x, np.array([0, 1, 4])).passed
    loaded = checkpoint.load(checkpoint.save(tmp_path / "seq.npz", net)).net
    assert loaded.config() == net.config()
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_a_checkpoint_header_is_checked_against_the_shapes_its_config_implies(tmp_path):
    import json

    net = small_simple(dtype=np.float32)
    assert type(net).param_shapes(net.config()) == {k: v.shape for k, v in net.params.items()}
    deep = DeepConvNet(**SMALL_DEEP, rng=0)
    assert DeepConvNet.param_shapes(deep.config()) == {k: v.shape for k, v in deep.params.items()}
    # a header whose config asks for other filters than the file stores is refused before anything is built
    path = checkpoint.save(tmp_path / "net.npz", net)
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays["header"].tobytes())
    header["net"]["conv_param"]["filter_num"] = 3000
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(checkpoint.CheckpointError, match="W1"):
        checkpoint.load(tmp_path / "bad.npz")
