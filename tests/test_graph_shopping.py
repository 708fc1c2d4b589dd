"""The chapter's shopping graphs: the book's numbers, and the same graphs through MulLayer/AddLayer."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from zerograd.graph import apple_graph, apple_orange_graph, format_number
from zerograd.layers import AddLayer, MulLayer


def test_apple_graph_gives_the_books_numbers():
    # figure 5-16: 100 × 2 = 200, × 1.1 = 220; backward from 1: 1.1 × 2 = 2.2, 1.1 × 100 = 110, 100 × 2 = 200
    shop = apple_graph()
    np.testing.assert_allclose(shop.price.item(), 220)
    np.testing.assert_allclose(float(shop["apple"].grad), 2.2)
    np.testing.assert_allclose(float(shop["apple_num"].grad), 110)
    np.testing.assert_allclose(float(shop["tax"].grad), 200)
    assert shop.price.name == "price" and shop.price.inputs[0].name == "apple_price"


def test_apple_orange_graph_gives_the_books_numbers():
    # figure 5-17: (100 × 2 + 150 × 3) × 1.1 = 715; d apple_num 110, d apple 2.2, d orange 3.3, d orange_num 165,
    # d tax 650
    shop = apple_orange_graph()
    np.testing.assert_allclose(shop.price.item(), 715)
    expected = {"apple_num": 110, "apple": 2.2, "orange": 3.3, "orange_num": 165, "tax": 650}
    for name, grad in expected.items():
        np.testing.assert_allclose(float(shop[name].grad), grad, err_msg=name)


def test_the_figures_show_clean_numbers():
    shop = apple_orange_graph()
    shown = {name: format_number(float(leaf.grad)) for name, leaf in shop.leaves.items()}
    assert shown == {"apple": "2.2", "apple_num": "110", "orange": "3.3", "orange_num": "165", "tax": "650"}
    assert format_number(shop.price.item()) == "715"
    assert float(shop["orange"].grad) != 3.3  # 1.1 × 3 in binary: the figure must not show 3.3000000000000003


def test_without_backward_there_are_no_gradients():
    shop = apple_graph(backward=False)
    assert shop.price.grad is None and shop["apple"].grad is None


prices = st.floats(0.01, 1000)
counts = st.integers(0, 20)
taxes = st.floats(1.0, 1.5)


@given(apple=prices, apple_num=counts, orange=prices, orange_num=counts, tax=taxes)
def test_apple_orange_graph_matches_the_layer_naive_computation(apple, apple_num, orange, orange_num, tax):
    # the book's buy_apple_orange.py, step by step with MulLayer and AddLayer
    mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    price = mul_tax.forward(
        add.forward(mul_apple.forward(apple, apple_num), mul_orange.forward(orange, orange_num)), tax
    )
    d_all, d_tax = mul_tax.backward(1)
    d_apple_price, d_orange_price = add.backward(d_all)
    d_apple, d_apple_num = mul_apple.backward(d_apple_price)
    d_orange, d_orange_num = mul_orange.backward(d_orange_price)

    shop = apple_orange_graph(apple, apple_num, orange, orange_num, tax)
    np.testing.assert_allclose(shop.price.item(), price, rtol=1e-12)
    got = [float(shop[k].grad) for k in ("apple", "apple_num", "orange", "orange_num", "tax")]
    np.testing.assert_allclose(got, [d_apple, d_apple_num, d_orange, d_orange_num, d_tax], rtol=1e-12)


@given(apple=prices, apple_num=counts, tax=taxes)
def test_apple_graph_matches_the_layer_naive_computation(apple, apple_num, tax):
    mul_apple, mul_tax = MulLayer(), MulLayer()
    price = mul_tax.forward(mul_apple.forward(apple, apple_num), tax)
    d_apple_price, d_tax = mul_tax.backward(1)
    d_apple, d_apple_num = mul_apple.backward(d_apple_price)
    shop = apple_graph(apple, apple_num, tax)
    np.testing.assert_allclose(shop.price.item(), price, rtol=1e-12)
    np.testing.assert_allclose(
        [float(shop[k].grad) for k in ("apple", "apple_num", "tax")], [d_apple, d_apple_num, d_tax], rtol=1e-12
    )
