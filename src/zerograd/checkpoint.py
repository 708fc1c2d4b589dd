"""Checkpoints: a net, and optionally the training run around it, in one ``.npz`` file.

Layout of the archive (plain arrays only; it is read with ``allow_pickle=False``):

- ``header``: the UTF-8 bytes of a JSON object (``uint8`` array) — format name and version, the net's
  ``config()`` (for a ``Sequential``: each layer's spec), the random generators of its Dropout layers, the
  name/shape/dtype of every array below, the optimizer's type and hyperparameters, the epoch,
  the ``np.random.Generator`` state, the ``TrainConfig`` and free ``metadata`` (dataset name, ...);
- ``param/W1``, ``param/b1``, ...: the net's parameters;
- ``buffer/running_mean1``, ...: the net's other state arrays (BatchNorm's running statistics);
- ``optim/<slot>/<key>``: the optimizer's state arrays (``optim/m/W1`` for Adam's first moment of W1);
- ``history/<name>``: the recorded loss and accuracies, float64.

Files are written through ``zerograd.io.fileio.atomic_open`` (a temporary file beside the target, fsync, rename), so
a crash or a full disk mid-write never leaves a half-written checkpoint where a good one was.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .checkpoint_schema import HeaderError, check_header
from .io.fileio import atomic_open
from .io.safenpz import NpzFormatError, read_npz
from .nets import net_from_config
from .optim import Optimizer, optimizer_from_state

__all__ = ["Checkpoint", "CheckpointError", "load", "save"]

FORMAT = "zerograd-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """The file is missing, is not a zerograd checkpoint, is damaged, or disagrees with its own header."""


@dataclass
class Checkpoint:
    """What ``load`` returns. Everything but ``net`` is ``None``/empty for a checkpoint of a net alone."""

    net: Any
    optimizer: Optimizer | None = None
    epoch: int = 0
    rng_state: dict[str, Any] | None = None
    history: dict[str, Any] = field(default_factory=dict)
    train_config: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def save(
    path: str | os.PathLike,
    net: Any,
    optimizer: Optimizer | None = None,
    *,
    epoch: int = 0,
    rng_state: dict[str, Any] | None = None,
    history: dict[str, Any] | None = None,
    train_config: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``net`` (anything with ``config()`` and ``params``) and the run's state to ``path``, atomically."""
    if not hasattr(net, "config") or not hasattr(net, "params"):
        raise TypeError(f"save: need a net with config() and params, got {type(net).__name__}")
    path = Path(path)
    arrays: dict[str, NDArray] = {f"param/{key}": np.asarray(value) for key, value in net.params.items()}
    for key, value in getattr(net, "buffers", {}).items():
        arrays[f"buffer/{key}"] = np.asarray(value)
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "net": net.config(),
        "layer_random_states": net.random_states() if hasattr(net, "random_states") else {},
        "epoch": int(epoch),
        "rng_state": rng_state,
        "train_config": train_config,
        "metadata": metadata or {},
        "optimizer": None,
        "history": {},
    }
    if optimizer is not None:
        state = optimizer.state_dict()
        header["optimizer"] = {
            "type": state["type"],
            "hyperparameters": state["hyperparameters"],
            "steps": state["steps"],
            "slots": {s: sorted(b) for s, b in state["state"].items()},
        }
        for slot, buffers in state["state"].items():
            for key, value in buffers.items():
                arrays[f"optim/{slot}/{key}"] = value
    for name, value in (history or {}).items():
        if isinstance(value, list):
            arrays[f"history/{name}"] = np.asarray(value, dtype=np.float64)
        else:
            header["history"][name] = value
    header["arrays"] = {name: {"shape": list(a.shape), "dtype": a.dtype.str} for name, a in arrays.items()}
    try:
        blob = json.dumps(header, allow_nan=True).encode("utf-8")
    except TypeError as err:
        raise TypeError(f"save: the checkpoint header must be JSON-serialisable: {err}") from None

    with atomic_open(path, "wb", make_dirs=True) as f:
        members: dict[str, Any] = {"header": np.frombuffer(blob, dtype=np.uint8), **arrays}
        np.savez(f, **members)
    return path


def load(path: str | os.PathLike, net: Any = None) -> Checkpoint:
    """Read a checkpoint written by ``save``; raises ``CheckpointError`` with the reason when it cannot.

    The net is rebuilt from the header's config; or, for a net with layers of your own (which zerograd cannot
    rebuild by name), pass one you built, ``net=``, and the saved arrays are loaded into it (its parameter names and
    shapes must match the saved ones).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    arrays = _read_arrays(path)
    if "header" not in arrays:
        raise CheckpointError(f"{path}: not a zerograd checkpoint (an .npz archive without a header)")
    header = _read_header(path, arrays.pop("header"))
    try:
        check_header(header, arrays, net_given=net is not None)
    except HeaderError as err:
        raise CheckpointError(f"{path}: damaged checkpoint header: {err}") from None

    net = _restore_net(path, header, arrays, net)
    optimizer = None
    if header.get("optimizer") is not None:
        spec = header["optimizer"]
        state = {
            "type": spec["type"],
            "hyperparameters": spec["hyperparameters"],
            "steps": spec["steps"],
            "state": {
                slot: {key: arrays[f"optim/{slot}/{key}"] for key in keys} for slot, keys in spec["slots"].items()
            },
        }
        try:
            optimizer = optimizer_from_state(state)
        except (ValueError, TypeError, KeyError) as err:
            raise CheckpointError(f"{path}: cannot restore the optimizer: {err}") from None
        for slot, buffers in optimizer.state.items():
            for key, value in buffers.items():
                if key not in net.params or value.shape != net.params[key].shape:
                    raise CheckpointError(
                        f"{path}: optimizer state {slot}/{key} of shape {value.shape} does not "
                        f"match any parameter of the net"
                    )

    history = dict(header.get("history") or {})
    for name, value in arrays.items():
        if name.startswith("history/"):
            history[name.removeprefix("history/")] = value.tolist()
    return Checkpoint(
        net=net,
        optimizer=optimizer,
        epoch=int(header.get("epoch", 0)),
        rng_state=header.get("rng_state"),
        history=history,
        train_config=header.get("train_config"),
        metadata=dict(header.get("metadata") or {}),
    )


def _read_arrays(path: Path) -> dict[str, NDArray]:
    """Every array of the archive, each checked against its .npy header and the file's size before it is read."""
    try:
        return read_npz(path)
    except NpzFormatError as err:
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic == b"\x93NUMPY":
            raise CheckpointError(
                f"{path}: not a zerograd checkpoint (a single .npy array, not an .npz archive)"
            ) from None
        if not zipfile.is_zipfile(path):
            raise CheckpointError(f"{path}: not a zerograd checkpoint (not an .npz archive)") from None
        raise CheckpointError(f"{path}: damaged or truncated checkpoint ({err})") from None
    except OSError as err:
        raise CheckpointError(f"{path}: cannot read ({err.strerror or err})") from None


def _restore_net(path: Path, header: dict[str, Any], arrays: dict[str, NDArray], net: Any) -> Any:
    """The saved net: rebuilt from its config, or ``net`` given by the caller, with the saved arrays put in place."""
    if net is None:
        try:
            with np.errstate(all="ignore"):  # weights drawn only to be replaced: an init scale of 1e308 may overflow
                net = net_from_config(header["net"], rng=0)
        except (ValueError, TypeError) as err:
            raise CheckpointError(f"{path}: cannot rebuild the net: {err}") from None
        what = f"the {header['net'].get('class')}"
    else:
        what = f"the given {type(net).__name__}"
    kinds = (("param", "parameter", net.params), ("buffer", "buffer", getattr(net, "buffers", {})))
    for prefix, word, targets in kinds:
        saved_keys = {name.removeprefix(prefix + "/") for name in arrays if name.startswith(prefix + "/")}
        if saved_keys != set(targets):
            raise CheckpointError(
                f"{path}: the checkpoint's {word}s {sorted(saved_keys)} do not match {what}'s {sorted(targets)}"
            )
        for key, target in targets.items():
            saved = arrays[f"{prefix}/{key}"]
            if saved.shape != target.shape or saved.dtype != target.dtype:
                raise CheckpointError(
                    f"{path}: {word} {key!r} is {saved.dtype} {saved.shape} but {what} needs "
                    f"{target.dtype} {target.shape}"
                )
            target[...] = saved  # in place: the layers hold these very arrays
    states = header.get("layer_random_states") or {}
    if states:
        if not isinstance(states, dict) or not hasattr(net, "set_random_states"):
            raise CheckpointError(f"{path}: damaged checkpoint header (layer_random_states)")
        try:
            net.set_random_states(states)
        except (ValueError, TypeError, KeyError) as err:
            raise CheckpointError(f"{path}: cannot restore the random layers' generators: {err}") from None
    return net


def _read_header(path: Path, raw: NDArray) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{path}: not a zerograd checkpoint (its 'header' is not JSON bytes)")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError: bad JSON, or an integer of more digits than Python converts; RecursionError: absurd nesting
        raise CheckpointError(f"{path}: not a zerograd checkpoint (its header is not valid JSON)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not a zerograd checkpoint (header format is "
            f"{header.get('format') if isinstance(header, dict) else None!r})"
        )
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {header.get('version')!r}; this zerograd reads version {VERSION}"
        )
    for key in ("net", "arrays"):
        if not isinstance(header.get(key), dict):
            raise CheckpointError(f"{path}: damaged checkpoint header (no {key!r} entry)")
    return header
