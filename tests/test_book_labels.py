"""``zerograd.book`` takes every label form the book's code takes: integers ``(N,)``, one-hot ``(N, C)`` and
integers ``(N, 1)`` (chapter 7's ``T = np.array([1]).reshape((1, 1))``); ``zerograd.layers`` keeps its strict form."""

import numpy as np
import pytest

from zerograd import layers as strict
from zerograd.book import functions, layers
from zerograd.book.multi_layer_net import MultiLayerNet
from zerograd.book.simple_convnet import SimpleConvNet
from zerograd.book.two_layer_net import TwoLayerNet

LOGITS = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 3.0], [1.0, 1.0, 1.0]])
LABELS = np.array([0, 2, 1])


def the_books_cross_entropy_error(y, t):
    """The repository's common/functions.py, line for line in effect (written here to compare numbers)."""
    if y.ndim == 1:
        t, y = t.reshape(1, t.size), y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7)) / y.shape[0]


@pytest.mark.parametrize("t", [LABELS[:1], LABELS[:1].reshape(1, 1), np.eye(3)[LABELS[:1]]])
@pytest.mark.parametrize("flat", [False, True])
def test_cross_entropy_error_of_one_sample_as_the_book(t, flat):
    y = functions.softmax(LOGITS[:1])
    y = y.reshape(-1) if flat else y
    assert functions.cross_entropy_error(y, t) == pytest.approx(the_books_cross_entropy_error(y, t), rel=1e-15)


def test_cross_entropy_error_of_a_batch_with_a_label_column():
    y = functions.softmax(LOGITS)
    expected = the_books_cross_entropy_error(y, LABELS)
    assert functions.cross_entropy_error(y, LABELS.reshape(3, 1)) == pytest.approx(expected, rel=1e-15)
    assert functions.cross_entropy_error(y, np.eye(3)[LABELS]) == pytest.approx(expected, rel=1e-15)
    # NOTE: the book's own function, given (3, 1), indexes y[arange(3), t] as a 3 x 3 table: no cross-entropy.
    assert the_books_cross_entropy_error(y, LABELS.reshape(3, 1)) == pytest.approx(4.3427, abs=1e-4)


@pytest.mark.parametrize("n", [1, 3])
def test_softmax_with_loss_takes_a_label_column(n):
    x, t = LOGITS[:n], LABELS[:n]
    reference = layers.SoftmaxWithLoss()
    loss = reference.forward(x, t)
    dx = reference.backward()
    column = layers.SoftmaxWithLoss()
    assert column.forward(x, t.reshape(n, 1)) == loss
    np.testing.assert_array_equal(column.backward(), dx)
    assert column.t.shape == (n, 1)  # as given, like the book's self.t
    one_hot = layers.SoftmaxWithLoss()
    assert one_hot.forward(x, np.eye(3)[t]) == pytest.approx(loss, rel=1e-15)
    np.testing.assert_allclose(one_hot.backward(), dx, rtol=1e-15)
    assert layers.softmax_loss(x, t.reshape(n, 1)) == pytest.approx(loss, rel=1e-15)


def test_the_libraries_layer_keeps_its_one_line_error():
    with pytest.raises(
        ValueError,
        match=r"^SoftmaxWithLoss: labels must be integers \(N,\) = \(1,\) or one-hot "
        r"\(N, C\) = \(1, 3\), got shape \(1, 1\)$",
    ):
        strict.SoftmaxWithLoss().forward(LOGITS[:1], np.array([[1]]))


def test_the_books_layer_names_its_three_forms_in_one_line():
    with pytest.raises(TypeError, match=r"^SoftmaxWithLoss: labels \(N, 1\) must be integers, got dtype float64$"):
        layers.SoftmaxWithLoss().forward(LOGITS[:2], np.array([[1.0], [0.0]]))  # the book: an IndexError
    with pytest.raises(
        ValueError,
        match=r"^SoftmaxWithLoss: labels must be integers \(N,\) = \(3,\) or \(N, 1\) = "
        r"\(3, 1\), or one-hot \(N, C\) = \(3, 3\), got shape \(3, 2\)$",
    ):
        layers.SoftmaxWithLoss().forward(LOGITS, np.zeros((3, 2), dtype=int))


@pytest.mark.parametrize(
    "make",
    [
        lambda: TwoLayerNet(6, 5, 3),
        lambda: MultiLayerNet(6, [5, 4], 3),
    ],
)
def test_the_books_nets_take_a_label_column(make):
    np.random.seed(0)
    net = make()
    x, t = np.random.rand(3, 6), LABELS
    column = t.reshape(3, 1)
    assert net.loss(x, column) == net.loss(x, t)
    assert net.accuracy(x, column) == net.accuracy(x, t)
    grads, column_grads = net.gradient(x, t), net.gradient(x, column)
    for key in net.params:
        np.testing.assert_array_equal(column_grads[key], grads[key])


def test_chapter_7_gradient_check_with_a_label_column():
    """``ch07/gradient_check.py``: SimpleConvNet on one 10x10 image, T = [[1]]; backprop agrees with the numerical
    gradient, and the numbers are those of the integer label (1,)."""
    np.random.seed(7)
    net = SimpleConvNet(
        input_dim=(1, 10, 10),
        conv_param={"filter_num": 10, "filter_size": 3, "pad": 0, "stride": 1},
        hidden_size=10,
        output_size=10,
        weight_init_std=0.01,
    )
    x, t = np.random.rand(100).reshape((1, 1, 10, 10)), np.array([1]).reshape((1, 1))
    numerical, backprop = net.numerical_gradient(x, t), net.gradient(x, t)
    flat = net.gradient(x, np.array([1]))
    for key in net.params:
        assert np.abs(numerical[key] - backprop[key]).mean() < 1e-6, key
        np.testing.assert_array_equal(backprop[key], flat[key])
