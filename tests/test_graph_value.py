"""zerograd.graph.Value: each operation against the layer classes, random expressions against finite differences."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from zerograd.functions import relu, sigmoid, softmax, softmax_cross_entropy
from zerograd.gradcheck import numerical_gradient
from zerograd.graph import Value, topological_order
from zerograd.layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from zerograd.nets import MultiLayerNet

floats = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


def arrays(shape: tuple[int, ...], elements: st.SearchStrategy = floats) -> st.SearchStrategy:
    return hnp.arrays(np.float64, shape, elements=elements)


# -- each operation against the layer that does the same math ------------------------------------------------------


@given(x=arrays((2, 3)), y=arrays((3,)), dout=arrays((2, 3)))
def test_mul_matches_mul_layer_with_broadcasting(x, y, dout):
    layer = MulLayer()
    expected_out = layer.forward(x, y)
    dx, dy = layer.backward(dout)
    vx, vy = Value(x), Value(y)
    out = vx * vy
    out.backward(dout)
    np.testing.assert_array_equal(out.data, expected_out)
    np.testing.assert_allclose(vx.grad, dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vy.grad, dy, rtol=1e-12, atol=1e-12)
    assert vy.grad.shape == (3,)


@given(x=arrays((2, 1)), y=arrays((2, 3)), dout=arrays((2, 3)))
def test_add_matches_add_layer_with_broadcasting(x, y, dout):
    layer = AddLayer()
    expected_out = layer.forward(x, y)
    dx, dy = layer.backward(dout)
    vx, vy = Value(x), Value(y)
    out = vx + vy
    out.backward(dout)
    np.testing.assert_array_equal(out.data, expected_out)
    np.testing.assert_allclose(vx.grad, dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vy.grad, dy, rtol=1e-12, atol=1e-12)


# 0 is the ReLU kink; both sides take the derivative 0 there, so it is included on purpose
@given(x=arrays((3, 4), st.one_of(floats, st.just(0.0))), dout=arrays((3, 4)))
def test_relu_matches_relu_layer_and_function(x, dout):
    layer = Relu()
    expected_out = layer.forward(x)
    v = Value(x)
    out = v.relu()
    out.backward(dout)
    np.testing.assert_array_equal(out.data, expected_out)
    np.testing.assert_array_equal(out.data, relu(x))
    np.testing.assert_array_equal(v.grad, layer.backward(dout))


@given(x=arrays((3, 4), st.one_of(floats, st.sampled_from([-300.0, 300.0, -1000.0, 1000.0]))), dout=arrays((3, 4)))
def test_sigmoid_matches_sigmoid_layer_and_function(x, dout):
    layer = Sigmoid()
    expected_out = layer.forward(x)
    v = Value(x)
    out = v.sigmoid()
    out.backward(dout)
    np.testing.assert_array_equal(out.data, expected_out)
    np.testing.assert_array_equal(out.data, sigmoid(x))
    np.testing.assert_allclose(v.grad, layer.backward(dout), rtol=1e-12, atol=1e-300)
    assert np.all(np.isfinite(v.grad))


@given(x=arrays((4, 5)), w=arrays((5, 3)), b=arrays((3,)), dout=arrays((4, 3)))
def test_matmul_plus_bias_matches_affine(x, w, b, dout):
    layer = Affine(w.copy(), b.copy())
    expected_out = layer.forward(x)
    dx = layer.backward(dout)
    vx, vw, vb = Value(x), Value(w), Value(b)
    out = vx @ vw + vb
    out.backward(dout)
    np.testing.assert_allclose(out.data, expected_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vx.grad, dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vw.grad, layer.dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vb.grad, layer.db, rtol=1e-12, atol=1e-12)


@given(x=arrays((4, 5), st.floats(-5, 5)), t=hnp.arrays(np.int64, (4,), elements=st.integers(0, 4)))
def test_softmax_cross_entropy_from_exp_sum_log_matches_softmax_with_loss(x, t):
    # loss = mean over samples of log(sum_k exp(x_k)) - x_t, built from the graph's own operations
    one_hot = np.eye(5)[t]
    v = Value(x)
    loss = (v.exp().sum(axis=1).log() - (v * one_hot).sum(axis=1)).sum() / len(x)
    loss.backward()
    layer = SoftmaxWithLoss()
    np.testing.assert_allclose(loss.item(), layer.forward(x, t), rtol=1e-12)
    np.testing.assert_allclose(loss.item(), softmax_cross_entropy(x, t), rtol=1e-12)
    np.testing.assert_allclose(v.grad, layer.backward(1.0), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(v.grad, (softmax(x) - one_hot) / len(x), rtol=1e-10, atol=1e-14)


def test_a_two_layer_net_built_from_values_has_the_nets_gradients():
    net = MultiLayerNet(6, [5], 3, weight_init_std="he", weight_decay_lambda=0.1, rng=0)
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((4, 6)), np.array([0, 2, 1, 2])
    params = {key: Value(value.copy(), name=key) for key, value in net.params.items()}
    hidden = (Value(x) @ params["W1"] + params["b1"]).relu()
    logits = hidden @ params["W2"] + params["b2"]
    data_loss = (logits.exp().sum(axis=1).log() - (logits * np.eye(3)[t]).sum(axis=1)).sum() / len(x)
    loss = data_loss + 0.05 * ((params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())  # λ/2 Σ‖W‖², λ = 0.1
    loss.backward()
    np.testing.assert_allclose(loss.item(), net.loss(x, t), rtol=1e-12)
    for key, grad in net.gradient(x, t).items():
        np.testing.assert_allclose(params[key].grad, grad, rtol=1e-10, atol=1e-14, err_msg=key)


# -- random expressions against central differences -----------------------------------------------------------------

LEAF_SHAPES = {"a": (2, 3), "b": (3,), "c": ()}
UNARY = ["neg", "exp", "log", "pow", "relu", "sigmoid", "sum", "sum_rows", "matmul"]
BINARY = ["add", "sub", "mul", "div", "rdiv", "const"]

expressions = st.recursive(
    st.sampled_from(sorted(LEAF_SHAPES)),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(UNARY), inner, st.sampled_from([2.0, 3.0, 0.5, -1.0])),
        st.tuples(st.sampled_from(BINARY), inner, inner),
    ),
    max_leaves=6,
)

# The same expression evaluated two ways: through Value (with gradients), and with plain NumPy (the reference).
VALUE_OPS = SimpleNamespace(
    exp=lambda v: v.exp(),
    log=lambda v: v.log(),
    relu=lambda v: v.relu(),
    sigmoid=lambda v: v.sigmoid(),
    sum=lambda v, **kw: v.sum(**kw),
)
NUMPY_OPS = SimpleNamespace(exp=np.exp, log=np.log, relu=relu, sigmoid=sigmoid, sum=lambda v, **kw: np.sum(v, **kw))


def evaluate(tree, env, ops):
    """Evaluate an expression tree; every operand of log, ** and a divisor is made positive first."""
    if isinstance(tree, str):
        return env[tree]
    op, x, arg = tree
    x = evaluate(x, env, ops)
    if op in BINARY:
        y = evaluate(arg, env, ops)
        return {
            "add": lambda: x + y,
            "sub": lambda: x - y,
            "mul": lambda: x * y,
            "div": lambda: x / (y * y + 1.0),
            "rdiv": lambda: 2.0 / (x * x + 0.5),
            "const": lambda: 1.5 * x - y,
        }[op]()
    if op == "neg":
        return -x
    if op == "pow":
        return (x * x + 1.0) ** arg
    if op == "log":
        return ops.log(x * x + 0.5)
    if op in ("exp", "relu", "sigmoid"):
        return getattr(ops, op)(x)
    if op == "sum":
        return ops.sum(x)
    if op == "sum_rows":
        return ops.sum(x, axis=-1, keepdims=True) if len(np.shape(x)) else x
    if op == "matmul":  # (..., 3) @ (3, 3); a scalar or a kept (..., 1) axis is first broadcast to (..., 3)
        return (x if np.shape(x)[-1:] == (3,) else x * env["b"]) @ env["W"]
    raise AssertionError(op)


@settings(max_examples=150, deadline=None)
@given(
    tree=expressions,
    a=arrays((2, 3), st.floats(-2, 2)),
    b=arrays((3,), st.floats(-2, 2)),
    c=st.floats(-2, 2),
    w=arrays((3, 3), st.floats(-1, 1)),
)
def test_random_expression_gradients_match_finite_differences(tree, a, b, c, w):
    data = {"a": a, "b": b, "c": np.array(c), "W": w}
    leaves = {key: Value(value.copy(), name=key) for key, value in data.items()}
    with np.errstate(all="ignore"):
        out = evaluate(tree, leaves, VALUE_OPS)
        reference = evaluate(tree, data, NUMPY_OPS)
    nodes = topological_order(out)
    assume(all(np.all(np.abs(node.data) < 1e4) for node in nodes))  # nested exp can overflow: not the point here
    # finite differences are meaningless across the ReLU kink
    assume(all(np.all(np.abs(node.inputs[0].data) > 1e-2) for node in nodes if node.op == "relu"))
    np.testing.assert_allclose(out.data, reference, rtol=1e-12, atol=1e-12)

    loss = out.sum()
    loss.backward()
    for key, leaf in leaves.items():
        if key not in {n.name for n in nodes}:
            continue  # a leaf the expression does not use gets no gradient
        shape = data[key].shape

        def f(x_, key=key, shape=shape):
            env = dict(data, **{key: x_.reshape(shape)})  # a 0-d leaf is perturbed as a (1,) array
            return float(np.sum(evaluate(tree, env, NUMPY_OPS)))

        expected = numerical_gradient(f, data[key].reshape(-1).copy(), h=1e-6).reshape(shape)
        scale = max(1.0, float(np.max(np.abs(expected))))
        np.testing.assert_allclose(leaf.grad, expected, rtol=1e-4, atol=1e-5 * scale, err_msg=f"d/d{key} of {tree}")


@given(x=st.floats(0.5, 3), p=st.floats(-2, 2))
def test_value_exponent_and_reflected_operators_match_finite_differences(x, p):
    vx, vp = Value(x), Value(p)
    out = vx**vp + 2.0**vp - 3.0 / vx + (1.0 - vx) * 4.0
    out.backward()

    def f(xp):
        return xp[0] ** xp[1] + 2.0 ** xp[1] - 3.0 / xp[0] + (1.0 - xp[0]) * 4.0

    expected = numerical_gradient(f, np.array([x, p]), h=1e-6)
    np.testing.assert_allclose([vx.grad, vp.grad], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("left, right", [((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,))])
def test_matmul_with_vectors_matches_finite_differences(left, right):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(left), rng.standard_normal(right)
    va, vb = Value(a), Value(b)
    out = (va @ vb).sigmoid().sum()
    out.backward()
    np.testing.assert_allclose(va.grad, numerical_gradient(lambda _: sigmoid(a @ b).sum(), a), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(vb.grad, numerical_gradient(lambda _: sigmoid(a @ b).sum(), b), rtol=1e-6, atol=1e-9)


# -- the engine -------------------------------------------------------------------------------------------------------


def test_a_node_used_twice_gets_the_sum_of_its_edge_gradients():
    x = Value(3.0, name="x")
    y = x * x  # d(x²)/dx = 2x: the product sends x back along each of its two edges
    y.backward()
    assert y.input_grads == (3.0, 3.0)
    assert x.grad == 6.0


def test_backward_replaces_gradients_instead_of_accumulating():
    x = Value(np.array([1.0, -2.0]))
    y = (x * 3.0).sum()
    y.backward()
    first = x.grad.copy()
    y.backward()
    np.testing.assert_array_equal(x.grad, first)
    np.testing.assert_array_equal(first, [3.0, 3.0])


def test_backward_order_visits_every_output_before_its_inputs():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    position = {id(node): i for i, node in enumerate(order)}
    assert len(order) == 5 and order[-1] is e
    for node in order:
        for inp in node.inputs:
            assert position[id(inp)] < position[id(node)]


def test_a_very_deep_graph_needs_no_recursion():
    x = Value(1.0)
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0
    assert y.item() == 1.0 + 3 * sys.getrecursionlimit()


def test_dtypes_numpy_scalars_and_names():
    v = Value(np.ones(3, dtype=np.float32), name="v")
    out = (np.float32(2) * v).named("doubled")
    assert isinstance(out, Value) and out.data.dtype == np.float32 and out.name == "doubled"
    out.backward()
    assert v.grad.dtype == np.float32
    assert Value(3).data.dtype == np.float64
    assert "name='v'" in repr(v) and "grad=" in repr(v)


def test_documented_errors():
    with pytest.raises(TypeError, match="numeric"):
        Value("apple")
    with pytest.raises(TypeError, match="got a Value"):
        Value(Value(1.0))
    with pytest.raises(ValueError, match="log of a Value 'x' with values <= 0"):
        Value(np.array([1.0, 0.0]), name="x").log()
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\)"):
        Value(np.ones((2, 3))) @ np.ones((2, 3))
    with pytest.raises(ValueError, match="axis 2"):
        Value(np.ones((2, 3))).sum(axis=2)
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** "2"
    with pytest.raises(ValueError, match="one-element"):
        Value(np.ones(2)).item()
    y = Value(np.ones(3)) * 2.0
    with pytest.raises(ValueError, match=r"shape \(3,\), got \(2,\)"):
        y.backward(np.ones(2))
