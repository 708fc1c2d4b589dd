"""``zerograd export [RUN] --format onnx|torch``: a checkpoint's net as an ONNX model or a PyTorch state_dict.

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
from .outputs import Outputs
from .run_args import checkpoint_path

FORMATS = {"onnx": ".onnx", "torch": ".pt"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "export",
        help="write a checkpoint's net as ONNX or a PyTorch state_dict (or load one back)",
        description="Export a checkpoint's net: --format onnx (checked with onnx.checker, runs in ONNX Runtime; "
        "needs pip install 'zerograd[onnx]') or --format torch (a state_dict .pt for the equivalent "
        "torch.nn.Sequential, zerograd.interop.to_torch; needs 'zerograd[torch]'). With --from-torch "
        "STATE.pt, load a state_dict into the checkpoint's architecture and write a zerograd checkpoint.",
    )
    p.add_argument(
        "checkpoint",
        metavar="RUN",
        nargs="?",
        default=None,
        help="a run folder or a checkpoint written by zerograd train (default: the latest run)",
    )
    p.add_argument("--format", default="onnx", choices=list(FORMATS), help="what to write")
    p.add_argument(
        "--out",
        default=None,
        help="output file (default: the checkpoint's name with .onnx or .pt, or NAME-from-torch.npz)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument(
        "--probabilities",
        action="store_true",
        help="ONNX: end with a Softmax node (probabilities); without it the output is the logits",
    )
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"], help="ONNX: the tensors' type")
    p.add_argument(
        "--from-torch",
        metavar="STATE.pt",
        default=None,
        help="load this PyTorch state_dict into the run's architecture and save it as a zerograd "
        "checkpoint (default: none, export)",
    )


def run(args: argparse.Namespace) -> int:
    from ..interop import InteropError

    if args.from_torch is None and args.format not in FORMATS:
        raise CommandError(f"unknown format {args.format!r}; zerograd exports {' or '.join(FORMATS)}")
    if args.dtype not in ("float32", "float64"):
        raise CommandError(f"--dtype must be float32 or float64, got {args.dtype!r}")
    ckpt_path = checkpoint_path(args.checkpoint, "export")
    out = Path(args.out) if args.out else _default_out(args, ckpt_path)
    out = Outputs(inputs=[ckpt_path, args.from_torch], overwrite=args.overwrite).file(out)
    ckpt = common.load_checkpoint(ckpt_path)
    try:
        path = _from_torch(args, ckpt, out) if args.from_torch is not None else _export(args, ckpt, out)
    except InteropError as err:
        raise CommandError(str(err)) from None
    except OSError as err:
        raise common.write_error(err, out) from None
    print(f"wrote {path}")
    return 0


def _default_out(args: argparse.Namespace, ckpt: Path) -> Path:
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
        return save_onnx(
            ckpt.net,
            out,
            probabilities=args.probabilities,
            dtype=args.dtype,
            classes=[str(c) for c in classes] if classes else None,
        )
    from ..interop import save_torch

    return save_torch(ckpt.net, out)


def _from_torch(args: argparse.Namespace, ckpt: Any, out: Path) -> Path:
    from ..checkpoint import save
    from ..interop import from_torch
    from ..interop.torch import load_state_dict

    net = from_torch(load_state_dict(args.from_torch), net=ckpt.net)
    return save(out, net, metadata={**ckpt.metadata, "from_torch": str(args.from_torch)})
