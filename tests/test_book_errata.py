"""The book's repository after the first printing: one test per change that alters what code computes or accepts.

Each test names the commit of github.com/oreilly-japan/deep-learning-from-scratch it follows (hash, date,
message). Changes to the chapter scripts (not to ``common/``/``dataset/``) are exercised by the book-style scripts
in ``tests/book_scripts``; docs/book-scripts.md lists every change and where it is checked.
"""

import numpy as np
import pytest

from zerograd.book import functions, gradient, layers, optimizer, trainer
from zerograd.book.multi_layer_net import MultiLayerNet
from zerograd.book.multi_layer_net_extend import MultiLayerNetExtend


def test_pooling_stride_defaults_to_2():
    """77a0807, 2020-09-14, "Change Pooling's stride 2 from 1" (common/layers.py)."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out = layers.Pooling(2, 2).forward(x)
    assert out.shape == (1, 1, 2, 2)  # stride 1 gives (1, 1, 3, 3)
    np.testing.assert_array_equal(out[0, 0], [[5.0, 7.0], [13.0, 15.0]])
    np.testing.assert_array_equal(out, layers.Pooling(2, 2, stride=2).forward(x))


def test_nesterov_moves_w_with_the_velocity_before_updating_it():
    """89eadd0, 2021-01-18, "Fix Nesterov update function" (common/optimizer.py): W += m²·v - (1+m)·lr·g with
    the old v, then v = m·v - lr·g."""
    lr, m = 0.1, 0.9
    params, grads = {"W": np.array([1.0, -2.0])}, [np.array([0.5, 0.25]), np.array([-1.0, 2.0])]
    opt = optimizer.Nesterov(lr=lr, momentum=m)
    w, v = params["W"].copy(), np.zeros(2)
    for g in grads:  # the repository's two lines, in its order
        w = w + m * m * v - (1 + m) * lr * g
        v = m * v - lr * g
        opt.update(params, {"W": g})
    np.testing.assert_allclose(params["W"], w, rtol=1e-15)
    np.testing.assert_allclose(opt.v["W"], v, rtol=1e-15)


def test_softmax_normalises_the_last_axis_of_any_array():
    """fb0b77e, 2020-03-17, "Improve softmax code" (common/functions.py): ``axis=-1, keepdims=True`` for every
    ndim (before: 2-D by rows, anything else over all its elements)."""
    x = np.random.default_rng(0).normal(size=(2, 3, 4)) * 50
    y = functions.softmax(x)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=-1, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize(
    "name, cls",
    [
        ("rmsprop", optimizer.RMSprop),
        ("RMSprop", optimizer.RMSprop),
        ("adagrad", optimizer.AdaGrad),
        ("AdaGrad", optimizer.AdaGrad),
    ],
)
def test_trainer_knows_rmsprop_and_adagrad_by_name(name, cls):
    """147088c, 2020-03-17, "Fix typo: rmsprop" and 73d680c, 2016-11-05, "fix typo" (common/trainer.py: the keys
    were 'rmsprpo' and 'addgrad'; ``self.epocsh`` became ``self.epochs``)."""
    net = MultiLayerNet(4, [3], 2)
    x, t = np.zeros((5, 4)), np.zeros(5, dtype=int)
    run = trainer.Trainer(net, x, t, x, t, epochs=3, optimizer=name, optimizer_param={"lr": 0.01}, verbose=False)
    assert type(run.optimizer) is cls
    assert run.epochs == 3


def test_multi_layer_net_extend_takes_x_and_t_by_keyword():
    """e64fe1e, 2020-01-11, "Use small letters for parameters" (common/multi_layer_net_extend.py:
    ``accuracy(self, x, t)``, ``numerical_gradient(self, x, t)``)."""
    np.random.seed(0)
    net = MultiLayerNetExtend(4, [3], 2, use_batchnorm=True)
    x, t = np.random.rand(6, 4), np.array([0, 1, 0, 1, 1, 0])
    assert net.accuracy(x=x, t=t) == net.accuracy(x, t)
    grads = net.numerical_gradient(x=x, t=t)
    assert set(grads) == set(net.params)


def test_sum_squared_error_is_half_the_sum():
    """c2cbca8, 2019-10-28, "Fix function name from "mean_" to "sum_"" (common/functions.py)."""
    y, t = np.array([0.1, 0.05, 0.6, 0.0]), np.array([0.0, 0.0, 1.0, 0.0])
    assert functions.sum_squared_error(y, t) == pytest.approx(0.5 * (0.01 + 0.0025 + 0.16))
    assert not hasattr(functions, "mean_squared_error")


def test_relu_grad_is_one_from_zero_up():
    """11e87cd, 2019-10-06, "Corrected relu_grad" (common/functions.py: ``np.zeros_like(x)``; ``grad[x>=0] = 1``)."""
    x = np.array([[-2.0, -1e-12, 0.0], [1e-12, 3.0, -0.0]])
    np.testing.assert_array_equal(functions.relu_grad(x), [[0, 0, 1], [1, 1, 1]])
    assert functions.relu_grad(x).dtype == x.dtype and functions.relu_grad(x).shape == x.shape


def test_numerical_gradient_steps_the_value_in_the_arrays_own_dtype():
    """5ba36cb, 2019-09-04, "Remove unnecessary type change" (common/gradient.py: ``x[idx] = tmp_val + h``):
    the step is taken on the array's own element, and the array comes back unchanged."""
    x = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)
    before = x.copy()
    grad = gradient.numerical_gradient(lambda w: float(np.sum(w.astype(np.float64) ** 2)), x)
    np.testing.assert_array_equal(x, before)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, 2 * before, rtol=1e-2)  # float32 steps of 1e-4 round to ~1e-3


def test_numerical_gradient_2d_takes_one_point_per_row():
    """a134880, 2019-01-15, "fix dimension of argument for numerical_gradient()" (ch04/gradient_2d.py: the points
    go in as rows, ``np.array([X, Y]).T``); common/gradient.py's ``numerical_gradient_2d`` works the same way."""

    def function_2(x):
        return np.sum(x**2) if x.ndim == 1 else np.sum(x**2, axis=1)

    points = np.array([[-2.0, 1.0], [0.5, 0.25], [1.5, -1.75]])  # (N, 2): one point (x0, x1) per row
    grad = gradient.numerical_gradient_2d(function_2, points.copy())
    np.testing.assert_allclose(grad, 2 * points, rtol=1e-8)
    np.testing.assert_allclose(gradient.numerical_gradient_2d(function_2, points[1].copy()), 2 * points[1])


def test_load_mnist_one_hot_labels():
    """6a797b1, 2017-03-20, "fix typo" and d1f113b, 2018-07-07, "Bug fix" (dataset/mnist.py:
    ``_change_ont_hot_label`` renamed ``_change_one_hot_label`` where it is called too)."""
    from zerograd.book.mnist import _change_one_hot_label, load_mnist

    (_, t_int), (_, t_test_int) = load_mnist(one_hot_label=False)
    (_, t_hot), (_, t_test_hot) = load_mnist(one_hot_label=True)
    assert t_hot.shape == (len(t_int), 10) and t_hot.dtype == np.float64
    np.testing.assert_array_equal(t_hot.argmax(axis=1), t_int)
    np.testing.assert_array_equal(t_hot.sum(axis=1), 1.0)
    np.testing.assert_array_equal(t_test_hot, _change_one_hot_label(t_test_int))


def test_cross_entropy_error_keeps_the_books_delta():
    """ea91786, 2017-12-20, "Add delta(1e-7) for cross_entropy_error" (common/functions.py)."""
    y = np.array([[0.0, 0.3, 0.7], [0.1, 0.8, 0.1]])
    assert functions.cross_entropy_error(y, np.array([0, 1])) == pytest.approx(
        -(np.log(0.0 + 1e-7) + np.log(0.8 + 1e-7)) / 2, rel=1e-14
    )


def test_batch_normalization_of_images_normalises_each_pixel_of_each_channel():
    """751d55d, 2016-11-28, "Minor fix" (common/layers.py: BatchNormalization reshapes ``(N, C, H, W)`` to
    ``(N, C*H*W)``, not ``(C, N*H*W)``)."""
    x = np.random.default_rng(1).normal(2.0, 3.0, size=(8, 2, 3, 3))
    features = 2 * 3 * 3
    bn = layers.BatchNormalization(np.ones(features), np.zeros(features))
    out = bn.forward(x, train_flg=True)
    assert out.shape == x.shape
    flat = x.reshape(8, -1)
    np.testing.assert_allclose(out.reshape(8, -1), (flat - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-7), rtol=1e-6)


def test_multi_layer_net_accuracy_with_one_hot_labels():
    """544af40, 2016-11-10, "Fix undefined variable" (common/multi_layer_net.py: one-hot ``t`` went to ``T``, so
    ``accuracy`` compared against the one-hot rows)."""
    np.random.seed(3)
    net = MultiLayerNet(5, [4], 3)
    x, t = np.random.rand(12, 5), np.random.randint(0, 3, 12)
    one_hot = np.eye(3)[t]
    assert net.accuracy(x, one_hot) == net.accuracy(x, t)
    assert net.accuracy(x, one_hot) == np.mean(net.predict(x).argmax(axis=1) == t)


@pytest.mark.parametrize("name", ["step_function"])
def test_step_function_dtype_is_python_int(name):
    """07b1161, 2024-11-05, "fix np.int -> int" (common/functions.py; 495ee99, 2024-05-21, the same in
    ch03/step_function.py and sig_step_compare.py): ``dtype=int``, which NumPy 1.24+ still has."""
    y = getattr(functions, name)(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(y, [0, 0, 1])
    assert y.dtype == np.dtype(int)


def test_mnist_is_not_fetched_from_yann_lecun_com():
    """497a4ac, 2024-05-20, "mnistのurlをミラーサイトに変更" (dataset/mnist.py: the S3 mirror) and f549a18,
    2021-06-07, "Fix MNIST download error (503)": the original site no longer serves the files."""
    from zerograd.datasets.catalog import MNIST

    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in MNIST.mirrors
    assert not any("yann.lecun.com" in url for url in MNIST.mirrors)
