"""``zerograd export CKPT --format onnx|torch``: a checkpoint's net as an ONNX model or a PyTorch state_dict.

``--from-torch STATE.pt`` goes the other way: the state_dict's tensors loaded into the checkpoint's architecture,
written as a new zerograd checkpoint. The layer-by-layer mapping is in ``zerograd.interop.onnx`` and
``zerograd.interop.torch``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import common
from .common import CommandError

FORMATS = {"onnx": ".onnx", "torch": ".pt"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "export", help="write a checkpoint's net as ONNX or a PyTorch state_dict (or load one back)",
        description="Export a checkpoint's net: --format onnx (checked with onnx.checker, runs in ONNX Runtime; "
                    "needs pip install 'zerograd[onnx]') or --format torch (a state_dict .pt for the equivalent "
                    "torch.nn.Sequential, zerograd.interop.to_torch; needs 'zerograd[torch]'). With --from-torch "
                    "STATE.pt, load a state_dict into the checkpoint's architecture and write a zerograd checkpoint.",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint written by zerograd train")
    p.add_argument("--format", default="onnx", help="onnx or torch (default: onnx)")
    p.add_argument("--out", default=None, help="output file (default: CKPT with .onnx or .pt, or CKPT-from-torch.npz)")
    p.add_argument("--probabilities", action="store_true",
                   help="ONNX: end with a Softmax node (probabilities); without it the output is the logits")
    p.add_argument("--dtype", default="float32", help="ONNX: float32 or float64 tensors (default: float32)")
    p.add_argument("--from-torch", metavar="STATE.pt", default=None,
                   help="load this PyTorch state_dict into CKPT's architecture and save it as a zerograd checkpoint")


def run(args: argparse.Namespace) -> int:
    from ..interop import InteropError

    if args.from_torch is None and args.format not in FORMATS:
        raise CommandError(f"unknown format {args.format!r}; zerograd exports {' or '.join(FORMATS)}")
    if args.dtype not in ("float32", "float64"):
        raise CommandError(f"--dtype must be float32 or float64, got {args.dtype!r}")
    ckpt = common.load_checkpoint(args.checkpoint)
    out = Path(args.out) if args.out else _default_out(args)
    common.check_out_file(out)
    try:
        path = _from_torch(args, ckpt, out) if args.from_torch is not None else _export(args, ckpt, out)
    except InteropError as err:
        raise CommandError(str(err)) from None
    except OSError as err:
        raise common.write_error(err, out) from None
    print(f"wrote {path}")
    return 0


def _default_out(args: argparse.Namespace) -> Path:
    ckpt = Path(args.checkpoint)
    if args.from_torch is not None:
        return ckpt.with_name(f"{ckpt.stem}-from-torch.npz")
    return ckpt.with_suffix(FORMATS[args.format])


def _export(args: argparse.Namespace, ckpt: Any, out: Path) -> Path:
    if args.format == "onnx":
        from ..interop import save_onnx

        classes = ckpt.metadata.get("classes")
        outputs = [layer for layer in ckpt.net.layers.values() if hasattr(layer, "out_features")]
        if not classes or not outputs or len(classes) != outputs[-1].out_features:
            classes = None  # no names, or not one per output: "0", "1", ...
        return save_onnx(ckpt.net, out, probabilities=args.probabilities, dtype=args.dtype,
                         classes=[str(c) for c in classes] if classes else None)
    from ..interop import save_torch

    return save_torch(ckpt.net, out)


def _from_torch(args: argparse.Namespace, ckpt: Any, out: Path) -> Path:
    from ..checkpoint import save
    from ..interop import from_torch
    from ..interop.torch import load_state_dict

    net = from_torch(load_state_dict(args.from_torch), net=ckpt.net)
    return save(out, net, metadata={**ckpt.metadata, "from_torch": str(args.from_torch)})
