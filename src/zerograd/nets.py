"""Networks: ``Sequential``, an ordered list of layers ending in a loss layer, and the book's nets built on it.

A net is an ordered dict of named layers (``Affine1, Relu1, Affine2, ...``) ending in ``SoftmaxWithLoss``.
``params`` holds the weights by the book's names (``W1, b1, gamma1, beta1, W2, ...``) and the layers hold *the
same arrays*, so the chapter's in-place update ``net.params[key] -= lr * grads[key]`` trains the net.
``TwoLayerNet`` (chapter 5), ``MultiLayerNet`` and ``MultiLayerNetExtend`` (chapter 6) are builders: they choose the
layers and hand them to ``Sequential``, which owns the one forward/backward walk through them.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .engine.memory import keep_freed_memory
from .engine.threads import BlasLimit, blas_threads_for
from .layers import (
    INIT_SCALES,
    Affine,
    BatchNormalization,
    Dropout,
    Layer,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    layer_from_spec,
)
from .numgrad import numerical_gradient

__all__ = ["MultiLayerNet", "MultiLayerNetExtend", "Sequential", "TwoLayerNet", "net_from_config", "register_net"]

ACTIVATIONS: dict[str, type[Layer]] = {"relu": Relu, "sigmoid": Sigmoid}
# A book-style layer without ``param_names``: its parameters are found under the book's attribute names.
BOOK_PARAM_NAMES = ("W", "b", "gamma", "beta")
BOOK_BUFFER_NAMES = ("running_mean", "running_var")
# Layers that pass their input's shape through (so the widths on either side must agree).
SHAPE_KEEPING = (Relu, Sigmoid, Dropout, BatchNormalization)


class NormalSource(Protocol):
    """Anything that draws standard normals: a ``np.random.Generator``, or the ``np.random`` module itself."""

    def standard_normal(self, size: Any = ...) -> Any: ...


class _Slot:
    """What the net knows about one of its layers: how to call it and which arrays it owns under which keys."""

    __slots__ = ("layer", "mode_dependent", "params", "buffers", "decayed", "skips_dx")

    def __init__(self, layer: Any, mode_dependent: bool, skips_dx: bool) -> None:
        self.layer = layer
        self.mode_dependent = mode_dependent
        self.skips_dx = skips_dx  # backward(dout, need_dx=False) is accepted (Affine)
        self.params: list[tuple[str, str]] = []  # (net key, layer attribute): ("W2", "W")
        self.buffers: list[tuple[str, str]] = []
        self.decayed: list[tuple[str, str]] = []


class LayerDict(OrderedDict):
    """``net.layers``: an ordered dict that counts its changes, so the net re-indexes only when a layer was put in,
    taken out or moved (as the book's readers do: ``net.layers["Relu1"] = Sigmoid()``)."""

    version = 0

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.version += 1

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.version += 1

    def move_to_end(self, key: str, last: bool = True) -> None:
        super().move_to_end(key, last)
        self.version += 1

    def pop(self, *args: Any) -> Any:
        self.version += 1
        return super().pop(*args)

    def popitem(self, last: bool = True) -> Any:
        self.version += 1
        return super().popitem(last)

    def clear(self) -> None:
        super().clear()
        self.version += 1


class Sequential:
    """Layers applied in order, then a loss layer: ``Sequential(layer, layer, ..., loss=SoftmaxWithLoss())``.

    Shape: x ``(N, ...)`` → logits ``(N, C)``; labels t: integers ``(N,)`` or one-hot ``(N, C)``.

    layers: layer objects with ``forward``/``backward`` — zerograd's, the book's or your own — or ``(name, layer)``
    pairs. A layer is named by its ``name_prefix`` (else its class name) and a count: ``Affine1, Relu1, Affine2``.
    Its parameters are its ``param_names`` attributes (for a book-style layer without them: ``W``, ``b``,
    ``gamma``, ``beta``), keyed by name and a count per name: ``W1, b1, gamma1, beta1, W2, ...``.
    A layer whose ``forward`` takes ``train_flg`` (Dropout, BatchNormalization) is told the mode.
    loss: the last layer, ``forward(x, t) -> float``; ``SoftmaxWithLoss`` when not given (a loss layer given last
    among ``layers`` is taken as the loss). weight_decay_lambda: L2 penalty ``λ/2 · Σ‖W‖²`` on the weights
    (``weight_decay_names`` of each layer; ``W`` for a book-style layer).

        >>> import numpy as np
        >>> from zerograd.layers import Affine, BatchNorm, Dropout, Relu
        >>> net = Sequential(Affine.new(4, 8, rng=0), BatchNorm(8), Relu(), Dropout(0.2, rng=0), Affine.new(8, 3))
        >>> list(net.layers), list(net.params)
        (['Affine1', 'BatchNorm1', 'Relu1', 'Dropout1', 'Affine2'], ['W1', 'b1', 'gamma1', 'beta1', 'W2', 'b2'])
        >>> net.predict(np.ones((2, 4))).shape
        (2, 3)
    """

    # gradient() runs small products on one BLAS thread (zerograd.engine.threads); False leaves BLAS as it is
    auto_blas_threads: bool = True
    _limit_key: tuple[Any, ...] | None = None  # (batch size, layers) the BLAS limit below was chosen for
    _limit: BlasLimit | None = None

    def __init__(self, *layers: Any, loss: Any = None, weight_decay_lambda: float = 0.0) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple, dict)) and not _is_named_pair(layers[0]):
            layers = tuple(layers[0].items()) if isinstance(layers[0], dict) else tuple(layers[0])
        named = self._name_layers(layers)
        if loss is None:
            if named and _is_loss(named[-1][1]):
                loss = named.pop()[1]
            else:
                loss = SoftmaxWithLoss()
        for name, layer in named:
            if _is_loss(layer):
                raise ValueError(
                    f"Sequential: the loss layer {name} ({type(layer).__name__}) must be last; pass it "
                    "as loss= or as the last layer"
                )
        _check_layer_api("the loss layer", loss)
        if (
            isinstance(weight_decay_lambda, bool)
            or not isinstance(weight_decay_lambda, (int, float))
            or not 0 <= weight_decay_lambda < math.inf
        ):
            raise ValueError(
                f"{type(self).__name__}: weight_decay_lambda must be a finite number >= 0, got {weight_decay_lambda!r}"
            )
        _check_widths(named)
        self.layers: LayerDict = LayerDict(named)
        self.last_layer = loss
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.training = True
        self._index()

    # -- building --------------------------------------------------------------------------------------------

    @staticmethod
    def _name_layers(layers: Sequence[Any]) -> list[tuple[str, Any]]:
        named: list[tuple[str, Any]] = []
        counts: dict[str, int] = {}
        for position, item in enumerate(layers, start=1):
            if _is_named_pair(item):
                name, layer = item
            else:
                layer = item
                prefix = getattr(layer, "name_prefix", None) or type(layer).__name__
                counts[prefix] = counts.get(prefix, 0) + 1
                name = f"{prefix}{counts[prefix]}"
            _check_layer_api(f"layer {position} ({name})", layer)
            if any(name == other for other, _ in named):
                raise ValueError(f"Sequential: two layers are named {name!r}; layer names must be unique")
            named.append((name, layer))
        return named

    def _index(self) -> None:
        """Build the one named-parameter map: which layer owns ``W3``, and the ``params``/``buffers`` dicts."""
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self.param_owner: dict[str, tuple[str, str]] = {}
        self.buffer_owner: dict[str, tuple[str, str]] = {}
        param_counts: dict[str, int] = {}
        buffer_counts: dict[str, int] = {}
        for position, (name, layer) in enumerate(self.layers.items()):
            slot = _Slot(layer, _takes_mode(layer), position == 0 and _takes_need_dx(layer))
            for attr in _array_names(layer, "param_names", BOOK_PARAM_NAMES):
                param_counts[attr] = param_counts.get(attr, 0) + 1
                key = f"{attr}{param_counts[attr]}"
                slot.params.append((key, attr))
                self.param_owner[key] = (name, attr)
            for attr in _array_names(layer, "buffer_names", BOOK_BUFFER_NAMES):
                buffer_counts[attr] = buffer_counts.get(attr, 0) + 1
                key = f"{attr}{buffer_counts[attr]}"
                slot.buffers.append((key, attr))
                self.buffer_owner[key] = (name, attr)
            decay_names = getattr(layer, "weight_decay_names", None)
            if decay_names is None:
                decay_names = ("W",)
            slot.decayed = [(key, attr) for key, attr in slot.params if attr in decay_names]
            self._slots[name] = slot
        self._indexed = self._layout()
        self._slot_list = list(self._slots.values())
        self._refresh_arrays()

    def _layout(self) -> tuple[Any, int]:
        return self.layers, getattr(self.layers, "version", -1)

    def _current_slots(self) -> list[_Slot]:
        """The slots of the layers as they are now: a layer replaced in ``net.layers`` (as the book's readers
        do), or a new ``net.layers`` dict, is indexed again."""
        layers, version = self._indexed
        if layers is not self.layers or version != getattr(self.layers, "version", -1) or version == -1:
            for name, layer in self.layers.items():
                _check_layer_api(name, layer)
            self._index()
        return self._slot_list

    def _refresh_arrays(self) -> None:
        """Point ``params`` and ``buffers`` at the arrays the layers hold now."""
        self.params: dict[str, NDArray] = {}
        self.buffers: dict[str, NDArray] = {}
        for slot in self._slots.values():
            for key, attr in slot.params:
                self.params[key] = getattr(slot.layer, attr)
            for key, attr in slot.buffers:
                self.buffers[key] = getattr(slot.layer, attr)

    def owner(self, key: str) -> tuple[str, Any]:
        """``(layer name, layer)`` holding parameter or buffer ``key`` (``"W3"``, ``"running_mean1"``)."""
        where = self.param_owner.get(key) or self.buffer_owner.get(key)
        if where is None:
            raise KeyError(
                f"{type(self).__name__} has no parameter or buffer {key!r}; parameters: {list(self.param_owner)}"
            )
        return where[0], self.layers[where[0]]

    # -- the one walk through the layers -----------------------------------------------------------------------

    def forward(
        self,
        x: NDArray,
        train_flg: bool,
        trace: list[NDArray] | None = None,
        start: int = 0,
        for_backward: bool = True,
    ) -> NDArray:
        """Run every layer but the loss on ``x`` (from layer number ``start``, 0 = the first); append each
        layer's output to ``trace`` when given. ``for_backward=False`` (inference only): each layer that has an
        ``infer`` computes the same output without keeping what ``backward`` would need."""
        for slot in self._current_slots()[start:]:
            layer = slot.layer
            infer = None if for_backward or train_flg else getattr(layer, "infer", None)
            if infer is not None:
                x = infer(x)
            else:
                x = layer.forward(x, train_flg) if slot.mode_dependent else layer.forward(x)
            if trace is not None:
                trace.append(x)
        return x

    def infer(self, x: ArrayLike) -> NDArray:
        """Logits ``(N, C)`` for x ``(N, ...)`` in inference mode, keeping nothing for ``backward``: the walk an
        evaluation takes. Each layer's ``infer`` (``forward(x, False)`` for a layer without one) computes what
        ``predict`` would, to the bit, without storing masks, inputs or im2col columns."""
        return self.forward(self._check_input(x), False, for_backward=False)

    def backward(self, dout: Any = 1.0, trace: list[Any] | None = None) -> NDArray | None:
        """Backpropagate from the loss layer down to the input, after ``loss``; leaves each layer's ``dW``...

        Returns ``dL/dx`` (``None`` when the first layer skips it, as ``gradient`` asks). ``trace`` receives the
        gradient arriving at each layer's output, last layer first, then ``dL/dx``.
        """
        dout = self.last_layer.backward(dout)
        slots = self._current_slots()
        for i in range(len(slots) - 1, -1, -1):
            if trace is not None:
                trace.append(dout)
            slot = slots[i]
            # the input images need no gradient: the first Affine skips dx (a third of its arithmetic)
            dout = (
                slot.layer.backward(dout, need_dx=False)
                if slot.skips_dx and trace is None
                else slot.layer.backward(dout)
            )
        if trace is not None:
            trace.append(dout)
        return dout

    def weight_decay(self) -> float:
        """The L2 penalty ``λ/2 · Σ‖W‖²`` over the decayed weights (0 when λ = 0)."""
        if self.weight_decay_lambda == 0:
            return 0.0
        squares = sum(
            float(np.sum(np.square(getattr(slot.layer, attr))))
            for slot in self._slots.values()
            for _, attr in slot.decayed
        )
        return 0.5 * self.weight_decay_lambda * squares

    def collect_gradients(self) -> dict[str, NDArray]:
        """The parameter gradients the last ``backward`` left in the layers, with ``λW`` added to decayed weights."""
        lam = self.weight_decay_lambda
        grads: dict[str, NDArray] = {}
        for slot in self._slots.values():
            for key, attr in slot.params:
                grads[key] = getattr(slot.layer, "d" + attr)
            if lam:
                for key, attr in slot.decayed:
                    grads[key] = grads[key] + lam * getattr(slot.layer, attr)  # d(λ/2 ‖W‖²)/dW = λW
        return grads

    # -- the chapter's interface -------------------------------------------------------------------------------

    def predict(self, x: ArrayLike, train_flg: bool = False) -> NDArray:
        """Logits (scores before softmax) ``(N, C)`` for x ``(N, ...)``; inference mode unless ``train_flg``."""
        return self.forward(self._check_input(x), train_flg)

    def loss(self, x: ArrayLike, t: ArrayLike, train_flg: bool = False) -> float:
        """Mean cross-entropy of the predictions, plus the L2 penalty ``λ/2 · Σ‖W‖²`` when ``λ > 0``."""
        y = self.predict(x, train_flg)
        return self.last_layer.forward(y, t) + self.weight_decay()

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray]:
        """Gradients of the loss for every parameter by backpropagation: ``{"W1": dW1, "b1": db1, ...}``.

        The forward pass runs in training mode (batch statistics, dropout) unless the net is in ``eval()`` mode.
        With ``auto_blas_threads`` (the default) a net whose products are small runs them on one BLAS thread
        (``zerograd.engine.threads``), so a loop of your own is as fast as the Trainer's; inside ``blas_threads(n)`` your
        choice stands. The first call also has the C allocator keep freed large blocks for reuse
        (``zerograd.engine.memory``: without it a step's large temporaries page-fault on fresh memory every time).
        """
        keep_freed_memory()
        limit = self._step_limit(x) if self.auto_blas_threads else None
        if limit is not None:
            limit.enter()
        try:
            self.last_layer.forward(self.predict(x, self.training), t)  # the penalty's value is not needed, only λW
            self.backward(1.0)
            return self.collect_gradients()
        finally:
            if limit is not None:
                limit.exit()

    def _step_limit(self, x: ArrayLike) -> BlasLimit | None:
        """``BlasLimit(1)`` when every product of a training step on the batch ``x`` is small, else None."""
        if not isinstance(x, np.ndarray) or x.ndim == 0:
            return None
        key = (x.shape[0], self._indexed)  # the batch size and the layers as last indexed
        if self._limit_key != key:
            threads = blas_threads_for(self.params.values(), x.shape[0])
            self._limit_key, self._limit = key, (None if threads is None else BlasLimit(threads))
        return self._limit

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int | None = None) -> float:
        """Fraction of samples whose largest logit is the label. ``batch_size`` bounds memory on large sets."""
        labels = np.asarray(t)
        if labels.ndim != 1:
            labels = np.argmax(labels, axis=1)
        x = np.asarray(x)
        if len(x) != len(labels):
            raise ValueError(f"{type(self).__name__}.accuracy: {len(x)} samples but {len(labels)} labels")
        if len(x) == 0:
            raise ValueError(f"{type(self).__name__}.accuracy: no samples")
        step = batch_size or len(x)
        correct = 0
        for start in range(0, len(x), step):
            y = self.infer(x[start : start + step])
            correct += int(np.sum(np.argmax(y, axis=1) == labels[start : start + step]))
        return correct / len(x)

    def numerical_gradient(self, x: ArrayLike, t: ArrayLike, h: float = 1e-4) -> dict[str, NDArray]:
        """The same gradients by central differences (slow: two forward passes per parameter element).

        The loss is taken in the mode ``gradient`` uses, with dropout masks held at their last draw.
        """
        with self.masks_held():
            return {
                key: numerical_gradient(lambda _: self.loss(x, t, train_flg=self.training), param, h=h)
                for key, param in self.params.items()
            }

    # -- modes -------------------------------------------------------------------------------------------------

    def train(self) -> Sequential:
        """``gradient`` runs layers in training mode (the default): batch statistics, dropout."""
        self.training = True
        return self

    def eval(self) -> Sequential:
        """``gradient`` runs layers in inference mode too: running statistics, no dropout."""
        self.training = False
        return self

    @contextmanager
    def masks_held(self) -> Iterator[None]:
        """Within: every random layer reuses its last draw, so repeated forward passes compute one function."""
        holders = [slot.layer for slot in self._slots.values() if hasattr(slot.layer, "hold_mask")]
        for layer in holders:
            layer.hold_mask(True)
        try:
            yield
        finally:
            for layer in holders:
                layer.hold_mask(False)

    # -- beyond the book ---------------------------------------------------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        """The floating dtype of the parameters (float64 for a net without any)."""
        for value in self.params.values():
            return np.asarray(value).dtype
        return np.dtype(np.float64)

    def config(self) -> dict[str, Any]:
        """What rebuilds this architecture, as JSON: each layer's ``spec()`` (``None`` for a layer of your own)."""
        layers = []
        for name, layer in self.layers.items():
            spec = layer.spec() if hasattr(layer, "spec") else None
            layers.append(
                {"name": name, **spec} if spec else {"name": name, "type": None, "class": type(layer).__name__}
            )
        loss_spec = self.last_layer.spec() if hasattr(self.last_layer, "spec") else None
        return {
            "class": "Sequential",
            "layers": layers,
            "loss": loss_spec or {"type": None, "class": type(self.last_layer).__name__},
            "weight_decay_lambda": self.weight_decay_lambda,
            "dtype": self.dtype.name,
        }

    def random_states(self) -> dict[str, Any]:
        """The state of each random layer's generator (Dropout's), by layer name: a resumed run draws the same
        masks as the uninterrupted one."""
        return {
            name: layer.rng.bit_generator.state
            for name, layer in self.layers.items()
            if isinstance(getattr(layer, "rng", None), np.random.Generator)
        }

    def set_random_states(self, states: dict[str, Any]) -> None:
        for name, state in states.items():
            layer = self.layers.get(name)
            if layer is None or not isinstance(getattr(layer, "rng", None), np.random.Generator):
                raise ValueError(f"{type(self).__name__} has no random layer named {name!r}")
            layer.rng.bit_generator.state = state

    def astype(self, dtype: DTypeLike) -> Sequential:
        """A copy of this net whose parameters, buffers and computations use ``dtype``."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.astype: dtype must be floating, got {dtype}")
        clone = copy.deepcopy(self)
        for slot in clone._slots.values():
            for _, attr in (*slot.params, *slot.buffers):
                setattr(slot.layer, attr, np.asarray(getattr(slot.layer, attr)).astype(dtype, copy=True))
        clone._refresh_arrays()
        return clone

    def _check_input(self, x: ArrayLike) -> NDArray:
        x = np.asarray(x)
        first = next(iter(self.layers.values()), None)
        expected = getattr(first, "in_features", None)
        if isinstance(expected, int):
            features = math.prod(x.shape[1:]) if x.ndim >= 2 else -1
            if features != expected:
                raise ValueError(
                    f"{type(self).__name__} expects x of shape (N, {expected}) (or (N, ...) with {expected} elements "
                    f"per sample), got {x.shape!r}"
                    + ("; for one sample use x[None]" if x.ndim == 1 and x.size == expected else "")
                )
        dtype = self.dtype
        if x.dtype != dtype:
            if x.dtype.kind not in "fiub":
                raise TypeError(f"{type(self).__name__} expects numeric input, got dtype {x.dtype}")
            x = x.astype(dtype)
        return x

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={layer!r}" for name, layer in self.layers.items())
        return f"{type(self).__name__}({inner}, loss={type(self.last_layer).__name__})"


# -- the book's nets, as builders ----------------------------------------------------------------------------


class MultiLayerNet(Sequential):
    """Fully connected net ``Affine → act → ... → Affine → SoftmaxWithLoss`` of any depth.

    Shape: x ``(N, input_size)`` (or ``(N, ...)`` with that many elements) → logits ``(N, output_size)``.
    input_size: features per sample ``D`` (784 for MNIST); hidden_size_list: the hidden widths, e.g. ``[100, 100]``;
    output_size: classes ``C``. activation: ``"relu"`` or ``"sigmoid"``. weight_init_std: a number (the standard
    deviation of every weight, 0.01 in the book's TwoLayerNet) or ``"he"``/``"relu"`` (``sqrt(2/n_in)``) or
    ``"xavier"``/``"sigmoid"`` (``sqrt(1/n_in)``). weight_decay_lambda: L2 penalty ``λ/2 · Σ‖W‖²`` added to the
    loss (and ``λW`` to each weight gradient). dtype: of every parameter and computation (float64 as in the book,
    float32 for speed). rng: a ``np.random.Generator``, a seed, or ``None`` for a fresh one.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = 0.01,
        weight_decay_lambda: float = 0.0,
        dtype: DTypeLike = np.float64,
        rng: np.random.Generator | int | NormalSource | None = None,
    ) -> None:
        self._set_architecture(input_size, hidden_size_list, output_size, activation, weight_init_std, dtype)
        rng = _generator(rng)
        super().__init__(*self._build(rng), weight_decay_lambda=weight_decay_lambda)

    def _set_architecture(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str,
        weight_init_std: float | str,
        dtype: DTypeLike,
    ) -> None:
        name = type(self).__name__
        sizes = [input_size, *hidden_size_list, output_size]
        if any(not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 1 for s in sizes):
            raise ValueError(f"{name}: layer sizes must be positive integers, got {sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"{name}: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if isinstance(weight_init_std, str) and weight_init_std.lower() not in INIT_SCALES:
            raise ValueError(
                f"{name}: weight_init_std must be a number or one of {sorted(INIT_SCALES)}, got {weight_init_std!r}"
            )
        if not isinstance(weight_init_std, str) and not 0 < weight_init_std < math.inf:
            raise ValueError(f"{name}: weight_init_std must be a positive finite number, got {weight_init_std!r}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{name}: dtype must be a floating type such as float32 or float64, got {dtype}")
        self.input_size = int(input_size)
        self.hidden_size_list = [int(s) for s in hidden_size_list]
        self.output_size = int(output_size)
        self.activation = activation
        self.weight_init_std = weight_init_std.lower() if isinstance(weight_init_std, str) else weight_init_std
        self.hidden_layer_num = len(self.hidden_size_list)
        self._dtype = dtype

    def _affines(self, rng: Any) -> list[Affine]:
        """The Affine layers, weights drawn in order ``W1, W2, ...`` from ``rng`` (the book's order)."""
        sizes = [self.input_size, *self.hidden_size_list, self.output_size]
        return [
            Affine.new(n_in, n_out, init=self.weight_init_std, rng=rng, dtype=self._dtype)
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        ]

    def _build(self, rng: Any) -> list[Layer]:
        act = ACTIVATIONS[self.activation]
        layers: list[Layer] = []
        for i, affine in enumerate(self._affines(rng)):
            layers.append(affine)
            if i < self.hidden_layer_num:
                layers.append(act())
        return layers

    def config(self) -> dict[str, Any]:
        return {
            "class": "MultiLayerNet",
            "input_size": self.input_size,
            "hidden_size_list": list(self.hidden_size_list),
            "output_size": self.output_size,
            "activation": self.activation,
            "weight_init_std": self.weight_init_std,
            "weight_decay_lambda": self.weight_decay_lambda,
            "dtype": self.dtype.name,
        }

    def _sizes(self) -> str:
        return " → ".join(str(s) for s in [self.input_size, *self.hidden_size_list, self.output_size])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._sizes()}, activation={self.activation}, dtype={self.dtype.name})"


class TwoLayerNet(MultiLayerNet):
    """The chapter's ``Affine1 → Relu1 → Affine2 → SoftmaxWithLoss``.

    Shape: x ``(N, input_size)`` → logits ``(N, output_size)``.
    input_size ``D`` → hidden_size ``H`` → output_size ``C``; weights drawn with standard deviation
    ``weight_init_std`` (0.01, as in the book), biases zero. Parameters ``W1: (D, H)``, ``b1: (H,)``,
    ``W2: (H, C)``, ``b2: (C,)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float | str = 0.01,
        dtype: DTypeLike = np.float64,
        rng: np.random.Generator | int | NormalSource | None = None,
    ) -> None:
        super().__init__(
            input_size,
            [hidden_size],
            output_size,
            activation="relu",
            weight_init_std=weight_init_std,
            dtype=dtype,
            rng=rng,
        )

    def config(self) -> dict[str, Any]:
        return {
            "class": "TwoLayerNet",
            "input_size": self.input_size,
            "hidden_size": self.hidden_size_list[0],
            "output_size": self.output_size,
            "weight_init_std": self.weight_init_std,
            "dtype": self.dtype.name,
        }


class MultiLayerNetExtend(MultiLayerNet):
    """Chapter 6's net: ``Affine → [BatchNorm] → act → [Dropout]`` per hidden layer, then ``Affine``.

    Shape: x ``(N, input_size)`` → logits ``(N, output_size)``.
    The arguments of ``MultiLayerNet`` (default init ``"relu"``, He, as the book), and use_dropout /
    dropout_ration (the book's spelling) / use_batchnorm. Parameters ``W1, b1, gamma1, beta1, ...``. Each Dropout
    draws its masks from its own generator, seeded from ``rng`` after the weights.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = "relu",
        weight_decay_lambda: float = 0.0,
        use_dropout: bool = False,
        dropout_ration: float = 0.5,
        use_batchnorm: bool = False,
        dtype: DTypeLike = np.float64,
        rng: np.random.Generator | int | NormalSource | None = None,
    ) -> None:
        if not 0 <= dropout_ration < 1:
            raise ValueError(f"{type(self).__name__}: dropout_ration must be in [0, 1), got {dropout_ration!r}")
        self.use_dropout, self.use_batchnorm = bool(use_dropout), bool(use_batchnorm)
        self.dropout_ration = float(dropout_ration)
        super().__init__(
            input_size,
            hidden_size_list,
            output_size,
            activation=activation,
            weight_init_std=weight_init_std,
            weight_decay_lambda=weight_decay_lambda,
            dtype=dtype,
            rng=rng,
        )

    def _build(self, rng: Any) -> list[Layer]:
        act = ACTIVATIONS[self.activation]
        layers: list[Layer] = []
        for i, affine in enumerate(self._affines(rng)):
            layers.append(affine)
            if i == self.hidden_layer_num:
                break
            if self.use_batchnorm:
                layers.append(BatchNormalization(affine.out_features, dtype=self._dtype))
            layers.append(act())
            if self.use_dropout:
                layers.append(Dropout(self.dropout_ration, rng=_child_generator(rng)))
        return layers

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "class": "MultiLayerNetExtend",
            "use_dropout": self.use_dropout,
            "dropout_ration": self.dropout_ration,
            "use_batchnorm": self.use_batchnorm,
        }

    def __repr__(self) -> str:
        extras = "".join(
            [
                ", batchnorm" if self.use_batchnorm else "",
                f", dropout={self.dropout_ration:g}" if self.use_dropout else "",
            ]
        )
        return f"{type(self).__name__}({self._sizes()}, activation={self.activation}{extras}, dtype={self.dtype.name})"


# -- rebuilding a net from its config ------------------------------------------------------------------------

NET_CLASSES: dict[str, type[Sequential]] = {}


def register_net(cls: type[Sequential]) -> type[Sequential]:
    """Class decorator: ``net_from_config`` (and so checkpoints) can rebuild nets whose config names ``cls``."""
    NET_CLASSES[cls.__name__] = cls
    return cls


for _cls in (MultiLayerNet, TwoLayerNet, MultiLayerNetExtend):
    register_net(_cls)


def net_from_config(config: dict[str, Any], rng: np.random.Generator | int | None = None) -> Sequential:
    """A freshly initialised net of the architecture ``config`` describes (the dict ``net.config()`` returns)."""
    if not isinstance(config, dict):
        raise ValueError(f"a net config must be a dict, got {type(config).__name__}")
    config = dict(config)
    name = config.pop("class", None)
    if name == "Sequential":
        return _sequential_from_config(config)
    if name not in NET_CLASSES:
        raise ValueError(
            f"unknown net class {name!r} in config; expected one of {sorted([*NET_CLASSES, 'Sequential'])}"
        )
    try:
        cls: Any = NET_CLASSES[name]  # each class has its own constructor (sizes, rng)
        return cls(**config, rng=rng)
    except TypeError as err:
        raise ValueError(f"config does not describe a {name}: {err}") from None


def _sequential_from_config(config: dict[str, Any]) -> Sequential:
    specs = config.get("layers")
    if not isinstance(specs, list) or not specs:
        raise ValueError("a Sequential config needs a non-empty list of layer specs under 'layers'")
    dtype = config.get("dtype", "float64")
    if dtype not in ("float16", "float32", "float64"):
        raise ValueError(f"a Sequential config's dtype must be float32 or float64, got {dtype!r}")
    layers = []
    for spec in [*specs, config.get("loss") or {"type": "SoftmaxWithLoss"}]:
        if not isinstance(spec, dict):
            raise ValueError(f"a layer spec must be a dict, got {type(spec).__name__}")
        if spec.get("type") is None:
            raise ValueError(
                f"layer {spec.get('name')!r} is a {spec.get('class')} of your own, which zerograd cannot "
                "rebuild by name: build the net yourself and pass it as net="
            )
        layer = layer_from_spec({k: v for k, v in spec.items() if k != "name"}, dtype)
        layers.append((spec["name"], layer) if isinstance(spec.get("name"), str) else layer)
    *body, loss = layers
    loss = loss[1] if isinstance(loss, tuple) else loss
    return Sequential(*body, loss=loss, weight_decay_lambda=config.get("weight_decay_lambda", 0.0))


# -- helpers -------------------------------------------------------------------------------------------------


def _generator(rng: Any) -> Any:
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    if not hasattr(rng, "standard_normal"):
        raise TypeError(f"rng must be a np.random.Generator, a seed or None, got {type(rng).__name__}")
    return rng


def _child_generator(rng: Any) -> Any:
    """Dropout's own generator: from the net's Generator, a new stream seeded by it; ``np.random`` (the book's
    global generator) stays itself."""
    if isinstance(rng, np.random.Generator):
        return np.random.default_rng(int(rng.integers(2**63)))
    return rng


def _is_named_pair(item: Any) -> bool:
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)


def _is_loss(layer: Any) -> bool:
    return bool(getattr(layer, "is_loss", False))


def _check_layer_api(what: str, layer: Any) -> None:
    missing = [m for m in ("forward", "backward") if not callable(getattr(layer, m, None))]
    if missing:
        raise TypeError(
            f"Sequential: {what} is a {type(layer).__name__} without "
            f"{' and '.join(m + '()' for m in missing)}; a layer "
            "needs forward(x) and backward(dout)"
        )


def _array_names(layer: Any, attribute: str, book_names: tuple[str, ...]) -> list[str]:
    names = getattr(layer, attribute, None)
    if names is None:  # a book-style layer: its arrays under the book's names
        names = [n for n in book_names if isinstance(getattr(layer, n, None), np.ndarray)]
    for n in names:
        if not isinstance(getattr(layer, n, None), np.ndarray):
            raise TypeError(f"Sequential: {type(layer).__name__}.{n} is listed in {attribute} but is not an array")
    return list(names)


def _takes_mode(layer: Any) -> bool:
    flag = getattr(layer, "mode_dependent", None)
    if flag is not None:
        return bool(flag)
    try:
        return "train_flg" in inspect.signature(layer.forward).parameters
    except (TypeError, ValueError):
        return False


def _takes_need_dx(layer: Any) -> bool:
    try:
        return "need_dx" in inspect.signature(layer.backward).parameters
    except (TypeError, ValueError):
        return False


def _check_widths(named: list[tuple[str, Any]]) -> None:
    """Consecutive layers whose widths are known must agree: Affine(·, 100) then BatchNorm(100) then Affine(100, ·)."""
    width, source = None, None
    for name, layer in named:
        needs = getattr(layer, "in_features", None)
        if needs is None and isinstance(layer, BatchNormalization):
            needs = layer.features
        if isinstance(width, int) and isinstance(needs, int) and needs != width:
            raise ValueError(f"Sequential: {name} expects {needs} features per sample but {source} gives {width}")
        if isinstance(getattr(layer, "out_features", None), int):
            width, source = layer.out_features, name
        elif isinstance(layer, BatchNormalization):
            width, source = layer.features, name
        elif not isinstance(layer, SHAPE_KEEPING):
            width, source = None, None
