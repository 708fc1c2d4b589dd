"""What a checkpoint's JSON header may hold, checked field by field before anything is built from it.

``zerograd.checkpoint.load`` calls ``check_header`` once the archive's arrays are read (their memory bounded by the
file's size, see ``zerograd.io.safenpz``). Every field gets its type and range checked here, and the net's config is
checked against the stored parameter arrays *before* the net is built: a config whose layers would allocate more
parameters than the file holds is refused, so a 20-byte edit cannot make ``load`` allocate terabytes. A header that
passes can be used by predict, evaluate and ``train --resume`` without an exception other than the documented ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["HeaderError", "check_header"]

MAX_INT = 2**31 - 1  # widths and layer settings: anything larger could not have been allocated, so it is damage
# epochs, batch sizes, sample counts: any positive integer the CLI and TrainConfig take (and so train can save); they
# count loop turns and never size an allocation
MAX_COUNT = 2**63 - 1
_FLOAT_MAX = 1.7976931348623157e308  # the largest float64: a larger JSON integer has no float value
FLOAT_DTYPES = ("float32", "float64")
HISTORY_LISTS = ("loss", "epoch_loss", "train_acc", "test_acc", "seconds")
# parameters (and buffers) each known layer type allocates, from its integer size fields; checked against the
# stored arrays
_ELEMENTS: dict[str, tuple[tuple[str, ...], Callable[..., int]]] = {
    "Affine": (("in_features", "out_features"), lambda n_in, n_out: n_in * n_out + n_out),
    "BatchNormalization": (("features",), lambda n: 4 * n),  # gamma, beta, running mean and variance
}


class HeaderError(ValueError):
    """The header is damaged or inconsistent with the stored arrays; the message names the field."""


def check_header(header: dict[str, Any], arrays: dict[str, np.ndarray], net_given: bool = False) -> None:
    """Raise ``HeaderError`` unless every field of ``header`` is well-typed, in range and agrees with ``arrays``
    (the archive's arrays besides the header). ``net_given``: the caller supplies the net, so its config is not
    rebuilt (it is still type-checked)."""
    _check_array_table(header.get("arrays"), arrays)
    params = {k.removeprefix("param/"): a for k, a in arrays.items() if k.startswith("param/")}
    stored = sum(a.size for k, a in arrays.items() if k.startswith(("param/", "buffer/")))
    if not params:
        raise HeaderError("the checkpoint holds no parameters")
    dtypes = {a.dtype.name for k, a in arrays.items() if k.startswith(("param/", "buffer/"))}
    if len(dtypes) != 1 or not dtypes <= set(FLOAT_DTYPES):
        raise HeaderError(f"parameters must all be float32 or all float64, got {sorted(dtypes)}")
    for name, a in arrays.items():
        if name.startswith(("param/", "buffer/")) and not np.all(np.isfinite(a)):
            # a diverged run is never saved: NaN or infinity here is damage, and would only print NaNs later
            raise HeaderError(f"{name} holds NaN or infinite values")
        if name.startswith("buffer/running_var") and a.size and a.min() < 0:
            # a variance is never negative: BatchNorm's inference would take its square root and predict NaN
            raise HeaderError(f"{name} holds negative variances (down to {a.min():g})")
    net = _dict(header.get("net"), "net")
    if not net_given:
        _check_net_config(net, stored, arrays)
    _check_epoch(header.get("epoch", 0))
    _check_random_state(header.get("rng_state"), "rng_state", allow_none=True)
    states = header.get("layer_random_states") or {}
    for name, state in _dict(states, "layer_random_states").items():
        _check_random_state(state, f"layer_random_states[{name!r}]")
    _check_train_config(header.get("train_config"))
    _check_optimizer(header.get("optimizer"), arrays, params)
    _check_history(_dict(header.get("history") or {}, "history"), arrays, header.get("train_config") is not None)
    _check_metadata(_dict(header.get("metadata") or {}, "metadata"))


# -- helpers: one per kind of value ----------------------------------------------------------------------------


def _dict(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise HeaderError(f"{field} must be a JSON object, got {type(value).__name__}")
    return value


def _int(value: Any, field: str, low: int = 0, high: int = MAX_INT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise HeaderError(f"{field} must be an integer in {low}..{high}, got {_short(value)}")
    return value


def _number(
    value: Any,
    field: str,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    # NOTE: JSON integers have no size limit: math.isfinite(10**400) is an OverflowError, so ints are compared as
    # ints (Python compares an int with a float exactly) and only converted once they are known to be in range
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (isinstance(value, int) or math.isfinite(value))
    )
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if ok and isinstance(value, int):
        ok = abs(value) <= _FLOAT_MAX
    if not ok:
        raise HeaderError(
            f"{field} must be a finite number in {'(' if low_open else '['}{low:g}, {high:g}"
            f"{')' if high_open else ']'}, got {_short(value)}"
        )
    return float(value)


def _str(value: Any, field: str, choices: tuple[str, ...] | None = None, allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or (choices is not None and value not in choices):
        expected = f"one of {list(choices)}" if choices else "a string"
        raise HeaderError(f"{field} must be {expected}, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- the fields ----------------------------------------------------------------------------------------------


def _check_array_table(table: Any, arrays: dict[str, np.ndarray]) -> None:
    table = _dict(table, "arrays")
    missing, extra = sorted(set(table) - set(arrays)), sorted(set(arrays) - set(table))
    if missing:
        raise HeaderError(f"the header lists {', '.join(missing[:5])} but the archive lacks it")
    if extra:
        raise HeaderError(f"the archive holds {', '.join(extra[:5])}, which the header does not list")
    for name, spec in table.items():
        spec = _dict(spec, f"arrays[{name!r}]")
        shape, dtype = spec.get("shape"), spec.get("dtype")
        a = arrays[name]
        if not isinstance(shape, list) or list(a.shape) != shape or not isinstance(dtype, str) or a.dtype.str != dtype:
            said = (
                f"{dtype} {tuple(shape)}"
                if isinstance(dtype, str) and isinstance(shape, list) and len(shape) < 33
                else f"{_short(dtype)} {_short(shape)}"
            )
            raise HeaderError(f"array {name!r} is {a.dtype.str} {tuple(a.shape)} but the header says {said[:80]}")
        if not name.startswith(("param/", "buffer/", "optim/", "history/")):
            raise HeaderError(f"unknown array {name!r}")


def _check_epoch(value: Any) -> None:
    _int(value, "epoch", 0, MAX_COUNT)


def _check_random_state(state: Any, field: str, allow_none: bool = False) -> None:
    """A ``np.random.PCG64`` state (what ``default_rng`` uses), as ``bit_generator.state`` returns it."""
    if state is None and allow_none:
        return
    state = _dict(state, field)
    _str(state.get("bit_generator"), f"{field}.bit_generator", ("PCG64",))
    inner = _dict(state.get("state"), f"{field}.state")
    _int(inner.get("state"), f"{field}.state.state", 0, 2**128 - 1)
    _int(inner.get("inc"), f"{field}.state.inc", 0, 2**128 - 1)
    _int(state.get("has_uint32"), f"{field}.has_uint32", 0, 1)
    _int(state.get("uinteger"), f"{field}.uinteger", 0, 2**32 - 1)
    if set(state) != {"bit_generator", "state", "has_uint32", "uinteger"} or set(inner) != {"state", "inc"}:
        raise HeaderError(f"{field} has unexpected fields {sorted(state)}")


def _check_net_config(net: dict[str, Any], stored: int, arrays: dict[str, np.ndarray]) -> None:
    """The config must build a net of exactly as many parameters as the file stores (before it is built)."""
    from .nets import NET_CLASSES

    name = str(_str(net.get("class"), "net.class", (*NET_CLASSES, "Sequential")))
    _str(net.get("dtype", "float64"), "net.dtype", FLOAT_DTYPES)
    # NOTE: any finite value >= 0, as the nets' constructors take (and train can save); what load draws from the
    # init scale before putting the saved arrays in place is thrown away, so even 1e308 only overflows harmlessly
    _number(net.get("weight_decay_lambda", 0.0), "net.weight_decay_lambda", 0)
    init = net.get("weight_init_std", 0.01)
    if not isinstance(init, str):
        _number(init, "net.weight_init_std", 0)
    if "dropout_ratio" in net:  # DeepConvNet's
        _number(net["dropout_ratio"], "net.dropout_ratio", 0, 1, high_open=True)
    needed: int | None
    if name == "Sequential":
        needed = _sequential_elements(net, stored)
    elif hasattr(NET_CLASSES.get(name), "param_shapes"):  # a net that computes its own shapes (the CNNs)
        needed = _own_shapes_elements(name, net, arrays)
    else:
        needed = _chapter_net_elements(name, net, arrays)
    if needed is not None and needed != stored:
        raise HeaderError(f"net config describes {needed} parameter values but the file stores {stored}")


def _sequential_elements(net: dict[str, Any], stored: int) -> int | None:
    """A ``Sequential``'s layer specs, each checked; the values they allocate (None when one cannot be counted)."""
    from .layers import LAYER_TYPES

    layers = net.get("layers")
    if not isinstance(layers, list) or not layers:  # as many as save wrote: each spec is in the file
        raise HeaderError("net.layers must be a non-empty list of layer specs")
    needed: int | None = 0
    for i, spec in enumerate([*layers, net.get("loss") or {"type": "SoftmaxWithLoss"}]):
        spec = _dict(spec, f"net.layers[{i}]")
        kind = spec.get("type")
        if kind is None:  # refused before any layer is built: the others could allocate from their sizes
            raise HeaderError(
                f"layer {spec.get('name')!r} is a {str(spec.get('class'))[:60]} of your own, which "
                "zerograd cannot rebuild by name: build the net yourself and pass it as net="
            )
        _str(kind, f"net.layers[{i}].type", tuple(LAYER_TYPES))
        _str(spec.get("name", ""), f"net.layers[{i}].name")
        for key, value in spec.items():
            if isinstance(value, int) and not isinstance(value, bool):
                _int(value, f"net.layers[{i}].{key}", 0, MAX_INT)
            elif isinstance(value, float):
                _number(value, f"net.layers[{i}].{key}")
        count = _layer_elements(kind, spec, LAYER_TYPES[kind], stored, f"net.layers[{i}]")
        needed = None if needed is None or count is None else needed + count
    return needed


def _own_shapes_elements(name: str, net: dict[str, Any], arrays: dict[str, np.ndarray]) -> int:
    """A net that computes its parameter shapes from its config (the CNNs): each stored array must have its
    shape."""
    from .nets import NET_CLASSES

    cls: Any = NET_CLASSES[name]
    try:
        shapes = {f"param/{key}": shape for key, shape in cls.param_shapes(net).items()}
    except (ValueError, TypeError, KeyError) as err:
        raise HeaderError(f"net config does not describe a {name}: {str(err)[:200]}") from None
    for key, shape in shapes.items():
        saved = arrays.get(key)
        if saved is None or saved.shape != shape:
            raise HeaderError(
                f"parameter {key.split('/')[1]!r} of the {name} is "
                f"{'missing' if saved is None else saved.shape} but its config needs {shape}"
            )
    return sum(math.prod(shape) for shape in shapes.values())


def _chapter_net_elements(name: str, net: dict[str, Any], arrays: dict[str, np.ndarray]) -> int:
    """TwoLayerNet, MultiLayerNet, MultiLayerNetExtend: the sizes in the config, and the arrays they imply."""
    from .nets import ACTIVATIONS

    sizes = [_int(net.get("input_size"), "net.input_size", 1)]
    if name == "TwoLayerNet":
        sizes.append(_int(net.get("hidden_size"), "net.hidden_size", 1))
    else:
        hidden = net.get("hidden_size_list")
        if not isinstance(hidden, list):  # any depth save wrote; each width is matched to a stored array
            raise HeaderError(f"net.hidden_size_list must be a list of widths, got {_short(hidden)}")
        sizes += [_int(h, "net.hidden_size_list[]", 1) for h in hidden]
        _str(net.get("activation", "relu"), "net.activation", tuple(ACTIVATIONS))
    sizes.append(_int(net.get("output_size"), "net.output_size", 1))
    shapes: dict[str, tuple[int, ...]] = {}
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False), start=1):
        shapes[f"param/W{k}"], shapes[f"param/b{k}"] = (a, b), (b,)
    if name == "MultiLayerNetExtend":
        for flag in ("use_dropout", "use_batchnorm"):
            if not isinstance(net.get(flag, False), bool):
                raise HeaderError(f"net.{flag} must be true or false, got {_short(net.get(flag))}")
        _number(net.get("dropout_ration", 0.5), "net.dropout_ration", 0, 1, high_open=True)
        if net.get("use_batchnorm"):
            for k, h in enumerate(sizes[1:-1], start=1):
                for key in ("param/gamma", "param/beta", "buffer/running_mean", "buffer/running_var"):
                    shapes[f"{key}{k}"] = (h,)
    for key, shape in shapes.items():
        kind, short = key.split("/")
        kind = "parameter" if kind == "param" else kind
        saved = arrays.get(key)
        if saved is None:
            raise HeaderError(f"{kind} {short!r} of the {name} is missing")
        if saved.shape != shape:
            raise HeaderError(
                f"{kind} {short!r} is {saved.dtype} {saved.shape} but the {name} needs {saved.dtype} {shape}"
            )
    return sum(math.prod(shape) for shape in shapes.values())


def _layer_elements(kind: str, spec: dict[str, Any], cls: type, stored: int, field: str) -> int | None:
    """The parameter and buffer values a layer of ``spec`` allocates; None when this table cannot count them."""
    if kind in _ELEMENTS:
        names, count = _ELEMENTS[kind]
        return int(count(*(_int(spec.get(key), f"{field}.{key}", 1) for key in names)))
    if not getattr(cls, "param_names", ()) and not getattr(cls, "buffer_names", ()):
        return 0
    # NOTE: a layer type this table does not know: its allocation is a product of some of its integer fields, so
    # their full product bounds it; it must stay within what the file stores (a generous factor for strides etc.)
    bound = math.prod(max(1, v) for v in spec.values() if isinstance(v, int) and not isinstance(v, bool))
    if bound > 64 * stored + 4096:
        raise HeaderError(f"{field} ({kind}) declares sizes that would need far more memory than the file holds")
    return None  # not counted exactly: the arrays are matched one by one when the net is restored


def _check_train_config(config: Any) -> None:
    if config is None:
        return
    from .optim import OPTIMIZERS
    from .train_config import SAMPLINGS, TrainConfig

    config = _dict(config, "train_config")
    for key in ("epochs", "batch_size", "eval_batch_size"):
        if key in config:
            _int(config[key], f"train_config.{key}", 1, MAX_COUNT)
    if "lr" in config:
        _number(config["lr"], "train_config.lr", 0, low_open=True)
    if "optimizer" in config:
        _str(
            str(config["optimizer"]).lower() if isinstance(config["optimizer"], str) else config["optimizer"],
            "train_config.optimizer",
            tuple(OPTIMIZERS),
        )
    if "seed" in config:
        _int(config["seed"], "train_config.seed", 0, 2**32 - 1)
    if "sampling" in config:
        _str(config["sampling"], "train_config.sampling", SAMPLINGS)
    for key in ("eval_train_samples", "blas_threads"):
        if config.get(key) is not None:
            _int(config[key], f"train_config.{key}", 1, 4096 if key == "blas_threads" else MAX_COUNT)
    params = _dict(config.get("optimizer_params", {}), "train_config.optimizer_params")
    for key, value in params.items():
        _number(value, f"train_config.optimizer_params.{key}")
    try:
        TrainConfig.from_dict(config).make_optimizer()
    except (ValueError, TypeError) as err:
        raise HeaderError(f"train_config: {err}") from None


def _check_optimizer(spec: Any, arrays: dict[str, np.ndarray], params: dict[str, np.ndarray]) -> None:
    stored_slots = {k for k in arrays if k.startswith("optim/")}
    if spec is None:
        if stored_slots:
            raise HeaderError("optimizer state arrays are stored but the header has no optimizer")
        return
    from .optim import OPTIMIZERS

    spec = _dict(spec, "optimizer")
    by_class = {cls.__name__: cls for cls in OPTIMIZERS.values()}
    cls = by_class[str(_str(spec.get("type"), "optimizer.type", tuple(by_class)))]
    hyper = _dict(spec.get("hyperparameters"), "optimizer.hyperparameters")
    if set(hyper) != set(cls.hyperparameter_names):
        raise HeaderError(f"optimizer.hyperparameters must be {list(cls.hyperparameter_names)}, got {sorted(hyper)}")
    for key, value in hyper.items():
        _number(value, f"optimizer.hyperparameters.{key}")
    try:
        cls(**hyper)  # the constructor checks ranges (lr > 0, momentum in [0, 1), ...)
    except (ValueError, TypeError) as err:
        raise HeaderError(f"optimizer: {err}") from None
    _int(spec.get("steps"), "optimizer.steps", 0, 2**62)
    slots = _dict(spec.get("slots"), "optimizer.slots")
    if set(slots) != set(cls.slot_names):
        raise HeaderError(f"optimizer.slots must be {list(cls.slot_names)} for {cls.__name__}, got {sorted(slots)}")
    listed = set()
    for slot, keys in slots.items():
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise HeaderError(f"optimizer.slots.{slot} must be a list of parameter names")
        for key in keys:
            name = f"optim/{slot}/{key}"
            if key not in params or name not in arrays:
                raise HeaderError(f"optimizer state {slot}/{key} matches no stored parameter")
            if arrays[name].shape != params[key].shape or arrays[name].dtype != params[key].dtype:
                raise HeaderError(
                    f"optimizer state {slot}/{key} is {arrays[name].dtype} {arrays[name].shape} but "
                    f"parameter {key} is {params[key].dtype} {params[key].shape}"
                )
            listed.add(name)
    if listed != stored_slots:
        raise HeaderError(f"optimizer state arrays {sorted(stored_slots - listed)[:5]} are not listed in its slots")


def _check_history(history: dict[str, Any], arrays: dict[str, np.ndarray], resumable: bool) -> None:
    for key, value in history.items():
        if key != "iterations_per_epoch":
            raise HeaderError(f"history.{key} is unknown")
        _int(value, "history.iterations_per_epoch", 1 if resumable else 0, MAX_COUNT)
    for name, a in arrays.items():
        if name.startswith("history/"):
            key = name.removeprefix("history/")
            if key not in HISTORY_LISTS or a.ndim != 1 or a.dtype != np.float64:
                raise HeaderError(f"history array {key!r} must be one of {list(HISTORY_LISTS)}, 1-D float64")
    # NOTE: lists of unequal lengths are allowed (a run of your own may record fewer); their readers cope


def _check_metadata(metadata: dict[str, Any]) -> None:
    # NOTE: no length limits: whatever train saved (a class name of 100,000 characters, a million classes), load
    # reads; the file's size already bounds them
    for key in ("dataset", "dataset_spec", "root"):
        if metadata.get(key) is not None and not isinstance(metadata[key], str):
            raise HeaderError(f"metadata.{key} must be a string, got {_short(metadata[key])}")
    classes = metadata.get("classes", [])
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise HeaderError("metadata.classes must be a list of class names")
