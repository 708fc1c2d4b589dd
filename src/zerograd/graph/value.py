"""A define-by-run computational graph: every arithmetic step on a ``Value`` records a node of the graph.

``Value`` wraps a NumPy array (a scalar is a 0-d array). Each operator computes its forward result and, right
beside it, the local derivative as a small ``backward(dout) -> (d_input, ...)`` function, exactly as the layers
of ``zerograd.layers`` do. ``out.backward()`` then walks the graph in reverse topological order, so every node's
``grad`` is complete (the sum over all the nodes that use it) before it is passed further back.

    >>> apple, apple_num, tax = Value(100, name="apple"), Value(2, name="apple_num"), Value(1.1, name="tax")
    >>> price = (apple * apple_num * tax).named("price")
    >>> price.backward()
    >>> float(apple.grad), float(apple_num.grad), float(tax.grad)   # 1.1*2, 1.1*100 (in binary), 100*2
    (2.2, 110.00000000000001, 200.0)

Gradients of broadcast inputs are summed back to the input's shape, as ``MulLayer``/``AddLayer`` do. After a
backward pass each node also keeps ``input_grads``: the gradient it sent along each of its input edges, which
is what the book writes under each arrow (for an input used twice, ``grad`` is the sum of its edges' gradients).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..functions import sigmoid as _sigmoid

__all__ = ["Value", "as_value", "topological_order"]

Backward = Callable[[NDArray], tuple[Any, ...]]


class Value:
    """A node of the graph: ``data`` (an array, 0-d for a scalar), its ``grad`` after ``backward()``, an
    optional ``name``, the operation ``op`` that made it and its ``inputs`` (empty for a leaf).

    data: any array-like; integers and booleans become float64, floating arrays keep their dtype.
    """

    # NOTE: Value defines no __eq__, so it hashes by identity: nodes can be dict keys and set members even
    # though `a == b` would be ambiguous for arrays.
    __array_ufunc__ = None  # `np.float64(2) * v` must call v.__rmul__, not turn v into an object array

    def __init__(
        self,
        data: ArrayLike,
        name: str | None = None,
        *,
        op: str = "",
        inputs: tuple[Value, ...] = (),
        backward: Backward | None = None,
    ) -> None:
        if isinstance(data, Value):
            raise TypeError("Value(data) got a Value; use it directly (or .data for its array)")
        array = np.asarray(data)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"Value needs numeric data, got dtype {array.dtype}")
        if array.dtype.kind != "f":
            array = array.astype(np.float64)
        self.data: NDArray = array
        self.name = name
        self.op = op
        self.inputs = inputs
        self._backward = backward
        self.grad: NDArray | None = None
        self.input_grads: tuple[NDArray, ...] | None = None  # gradient sent along each input edge

    # -- convenience -------------------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        """True for an input of the graph (made by the user, not by an operation)."""
        return not self.inputs

    def named(self, name: str) -> Value:
        """Give this node a name (shown in drawings) and return it: ``(apple * num).named("apple_price")``."""
        self.name = name
        return self

    def item(self) -> float:
        """The value of a one-element node as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a one-element Value, this one has shape {self.shape!r}")
        return float(self.data.reshape(()))

    def __float__(self) -> float:
        return self.item()

    def __repr__(self) -> str:
        def show(a: NDArray) -> str:
            return repr(float(a)) if a.ndim == 0 else f"array of shape {a.shape!r}"

        parts = [show(self.data)]
        if self.name:
            parts.append(f"name={self.name!r}")
        if self.op:
            parts.append(f"op={self.op!r}")
        if self.grad is not None:
            parts.append(f"grad={show(self.grad)}")
        return f"Value({', '.join(parts)})"

    # -- the operations: forward value, and beside it the local derivative --------------------------------------

    def __add__(self, other: Value | ArrayLike) -> Value:
        other = as_value(other)

        def backward(dout: NDArray) -> tuple[Any, Any]:
            # d(x+y)/dx = d(x+y)/dy = 1: the gradient passes to both inputs unchanged.
            return dout, dout

        return Value(self.data + other.data, op="+", inputs=(self, other), backward=backward)

    def __radd__(self, other: ArrayLike) -> Value:
        return as_value(other) + self

    def __sub__(self, other: Value | ArrayLike) -> Value:
        other = as_value(other)

        def backward(dout: NDArray) -> tuple[Any, Any]:
            # d(x-y)/dx = 1,  d(x-y)/dy = -1
            return dout, -dout

        return Value(self.data - other.data, op="-", inputs=(self, other), backward=backward)

    def __rsub__(self, other: ArrayLike) -> Value:
        return as_value(other) - self

    def __neg__(self) -> Value:
        def backward(dout: NDArray) -> tuple[Any]:
            # d(-x)/dx = -1
            return (-dout,)

        return Value(-self.data, op="neg", inputs=(self,), backward=backward)

    def __mul__(self, other: Value | ArrayLike) -> Value:
        other = as_value(other)
        x, y = self.data, other.data

        def backward(dout: NDArray) -> tuple[Any, Any]:
            # d(x*y)/dx = y,  d(x*y)/dy = x: each input gets dout times the *other* input (the book's "swap").
            return dout * y, dout * x

        return Value(x * y, op="×", inputs=(self, other), backward=backward)

    def __rmul__(self, other: ArrayLike) -> Value:
        return as_value(other) * self

    def __truediv__(self, other: Value | ArrayLike) -> Value:
        other = as_value(other)
        x, y = self.data, other.data

        def backward(dout: NDArray) -> tuple[Any, Any]:
            # d(x/y)/dx = 1/y,  d(x/y)/dy = -x/y²
            return dout / y, -dout * x / (y * y)

        return Value(x / y, op="÷", inputs=(self, other), backward=backward)

    def __rtruediv__(self, other: ArrayLike) -> Value:
        return as_value(other) / self

    def __pow__(self, exponent: Value | ArrayLike) -> Value:
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        if not isinstance(exponent, numbers.Real):
            raise TypeError(f"Value ** needs a number or a Value as exponent, got {type(exponent).__name__}")
        p = float(exponent)
        x = self.data

        def backward(dout: NDArray) -> tuple[Any]:
            # d(x^p)/dx = p x^(p-1)
            # NOTE: written as p * x**(p-1), not p * out / x, so that x = 0 gives 0 (for p > 1), not 0/0.
            return (dout * p * x ** (p - 1),)

        return Value(x**p, op=f"**{_short(p)}", inputs=(self,), backward=backward)

    def _pow_value(self, exponent: Value) -> Value:
        x, p = self.data, exponent.data
        out = x**p

        def backward(dout: NDArray) -> tuple[Any, Any]:
            # d(x^p)/dx = p x^(p-1),  d(x^p)/dp = x^p log x  (defined for x > 0)
            return dout * p * x ** (p - 1), dout * out * np.log(x)

        return Value(out, op="**", inputs=(self, exponent), backward=backward)

    def __rpow__(self, base: ArrayLike) -> Value:
        return as_value(base) ** self

    def exp(self) -> Value:
        out = np.exp(self.data)

        def backward(dout: NDArray) -> tuple[Any]:
            # d exp(x)/dx = exp(x): the forward output itself.
            return (dout * out,)

        return Value(out, op="exp", inputs=(self,), backward=backward)

    def log(self) -> Value:
        x = self.data
        if np.any(x <= 0):
            raise ValueError(
                f"log of a Value{_label(self)} with values <= 0 (smallest {float(np.min(x))!r}): "
                "the logarithm and its gradient 1/x are not defined there"
            )

        def backward(dout: NDArray) -> tuple[Any]:
            # d log(x)/dx = 1/x
            return (dout / x,)

        return Value(np.log(x), op="log", inputs=(self,), backward=backward)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Sum over ``axis`` (all axes by default), as ``np.sum``."""
        x = self.data
        try:
            out = x.sum(axis=axis, keepdims=keepdims)
        except np.exceptions.AxisError:
            raise ValueError(f"sum over axis {axis!r} of a Value of shape {x.shape!r}") from None

        def backward(dout: NDArray) -> tuple[Any]:
            # d sum(x)/dx_i = 1: every summed element gets the gradient of the sum, broadcast back to x's shape.
            if not keepdims and axis is not None:
                dout = np.expand_dims(dout, axis)
            return (np.broadcast_to(dout, x.shape),)

        return Value(out, op="sum", inputs=(self,), backward=backward)

    def __matmul__(self, other: Value | ArrayLike) -> Value:
        """Matrix product of 1-D or 2-D operands, as ``np.matmul``: ``x: (N, D) @ W: (D, M) -> (N, M)``."""
        other = as_value(other)
        a, b = self.data, other.data
        if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2) or a.shape[-1] != b.shape[0]:
            raise ValueError(
                f"matmul needs 1-D or 2-D operands whose inner sizes agree, (N, D) @ (D, M); "
                f"got {a.shape!r} @ {b.shape!r}"
            )
        # A vector is a 1-row (left) or 1-column (right) matrix; the gradients are reshaped back at the end.
        a2 = a if a.ndim == 2 else a[np.newaxis, :]
        b2 = b if b.ndim == 2 else b[:, np.newaxis]

        def backward(dout: NDArray) -> tuple[Any, Any]:
            # out = a b  =>  dL/da = dout bᵀ,  dL/db = aᵀ dout  (the Affine layer's dx and dW)
            d2 = np.reshape(dout, (a2.shape[0], b2.shape[1]))
            return (d2 @ b2.T).reshape(a.shape), (a2.T @ d2).reshape(b.shape)

        return Value(a @ b, op="dot", inputs=(self, other), backward=backward)

    def __rmatmul__(self, other: ArrayLike) -> Value:
        return as_value(other) @ self

    def relu(self) -> Value:
        x = self.data
        active = x > 0

        def backward(dout: NDArray) -> tuple[Any]:
            # d max(0,x)/dx = 1 if x > 0 else 0.
            # NOTE: at exactly x = 0 we take 0, as the Relu layer (and the book) do.
            return (dout * active,)

        return Value(np.maximum(x, 0), op="relu", inputs=(self,), backward=backward)

    def sigmoid(self) -> Value:
        out = _sigmoid(self.data)

        def backward(dout: NDArray) -> tuple[Any]:
            # d sigmoid(x)/dx = y (1 - y), with y the forward output.
            return (dout * (1.0 - out) * out,)

        return Value(out, op="sigmoid", inputs=(self,), backward=backward)

    # -- backpropagation ---------------------------------------------------------------------------------------

    def backward(self, grad: ArrayLike | None = None) -> None:
        """Fill ``grad`` (and ``input_grads``) on every node this one depends on: ``d self / d node``.

        grad: the gradient arriving at this node, ``dL/dself`` of ``self``'s shape; by default 1 everywhere
        (the book's ``dprice = 1``). Gradients from an earlier ``backward`` through these nodes are replaced,
        not accumulated.
        """
        seed = np.ones_like(self.data) if grad is None else np.asarray(grad, dtype=self.data.dtype)
        if seed.shape != self.shape:
            raise ValueError(f"backward: grad must have this Value's shape {self.shape!r}, got {seed.shape!r}")
        order = topological_order(self)
        for node in order:
            node.grad = None
            node.input_grads = None
        self.grad = seed
        for node in reversed(order):  # outputs before inputs: a node's grad is complete when it is reached
            if node.is_leaf:
                continue
            if node.grad is None:  # cannot happen in a connected graph; kept as an invariant check
                raise AssertionError(f"node {node!r} reached before its gradient was known")
            if node._backward is None:  # a non-leaf always has one; kept as an invariant check
                raise AssertionError(f"node {node!r} has inputs but no backward")
            local = node._backward(node.grad)
            sent = tuple(_sum_to_shape(np.asarray(g), inp.shape) for g, inp in zip(local, node.inputs, strict=True))
            node.input_grads = sent
            for inp, g in zip(node.inputs, sent, strict=True):
                inp.grad = g.copy() if inp.grad is None else inp.grad + g


def as_value(x: Value | ArrayLike) -> Value:
    """``x`` itself if it is a ``Value``, else a new unnamed leaf holding it (a constant such as ``2``)."""
    return x if isinstance(x, Value) else Value(x)


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, inputs before the nodes that use them, ``root`` last.

    Iterative depth-first search, so a graph thousands of operations deep does not hit the recursion limit.
    """
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, Iterator[Value]]] = [(root, iter(root.inputs))]
    seen.add(id(root))
    while stack:
        node, children = stack[-1]
        for child in children:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _sum_to_shape(grad: NDArray, shape: tuple[int, ...]) -> NDArray:
    """Undo broadcasting: sum ``grad`` over the axes along which an input of ``shape`` was stretched."""
    if grad.shape == shape:
        return grad
    leading = grad.ndim - len(shape)
    if leading > 0:
        grad = grad.sum(axis=tuple(range(leading)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return np.broadcast_to(grad, shape)  # a no-op reshape in practice; guarantees the shape contract


def _short(p: float) -> str:
    return str(int(p)) if p.is_integer() else repr(p)


def _label(v: Value) -> str:
    return f" {v.name!r}" if v.name else ""
