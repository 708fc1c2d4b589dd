"""``zerograd serve``: the browser pages — step-through graphs, draw a digit, live training — on a local server."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import CommandError
from .run_args import LATEST, checkpoint_path

INSTALL_HINT = "HINT: install the server's extra: pip install 'zerograd[serve]' (FastAPI and uvicorn)"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the browser pages: step-through graphs, draw a digit, live training",
        description="Serve zerograd's pages on this machine: /graph/apple (and apple-orange, expr, net) to step "
        "through backpropagation node by node, /digits to draw a digit for a net, /train to watch a "
        "training run's curves live; each with a JSON API under /api (see the README). Binds "
        "127.0.0.1 unless --host says otherwise.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; anything but a loopback address (127.0.0.1, ::1, localhost) lets "
        "other machines connect (default: %(default)s)",
    )
    p.add_argument("--port", type=int, default=8000, help="TCP port (default: %(default)s)")
    p.add_argument(
        "--checkpoint",
        metavar="RUN",
        nargs="?",
        const=LATEST,
        default=None,
        help="the net behind /digits and /graph/net: a run folder or checkpoint of zerograd train (any "
        "MLP, BatchNorm, Dropout, conv net), or the latest run when given alone (default: a "
        "TwoLayerNet trained on the bundled MNIST sample at start-up for /digits, a second or two, "
        "and the chapter's fresh one on /graph/net)",
    )
    p.add_argument(
        "--watch",
        metavar="RUN_DIR",
        default=None,
        help="the folder of a zerograd train run (running or finished, started anywhere): /watch shows "
        "its metrics.csv and its first layer's weights, read again after each epoch (default: none)",
    )


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise CommandError(f"--port must be from 1 to 65535, got {args.port}")
    if args.checkpoint is not None:
        args.checkpoint = str(checkpoint_path(args.checkpoint, "serve"))
    try:
        import uvicorn

        from ..serve.app import create_app
    except ImportError as err:
        raise CommandError(f"the server needs {err.name}, which is not installed. {INSTALL_HINT}") from None
    from ..checkpoint import CheckpointError
    from ..serve.digits import load_digit_model
    from ..serve.guards import is_loopback, loopback_hosts
    from ..serve.netdata import NetInputError, checkpoint_source
    from ..serve.watch import RunWatcher, WatchError

    if args.watch is not None:
        try:
            RunWatcher(args.watch)
        except WatchError as err:
            raise CommandError(str(err)) from None

    loopback = is_loopback(args.host)
    if not loopback:
        print(
            f"zerograd serve: warning: listening on {args.host}: other machines can reach these pages and "
            f"start training runs on this one",
            file=sys.stderr,
        )
    try:
        model = load_digit_model(args.checkpoint)
    except (CheckpointError, ValueError) as err:
        raise CommandError(str(err)) from None
    print(f"the net for /digits: {model.source}")
    try:
        # the checkpoint's net, read once: behind /digits and, stepped through, on /graph/net
        net_source = checkpoint_source(model.net, args.checkpoint) if args.checkpoint is not None else None
        app = create_app(
            checkpoint=args.checkpoint,
            digit_model=model,
            watch=args.watch,
            net_source=net_source,
            allowed_hosts=loopback_hosts(args.host) if loopback else None,
        )
    except (CheckpointError, NetInputError, WatchError) as err:
        raise CommandError(str(err)) from None
    url = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}"
    watching = f", watching {args.watch}: {url}/watch" if args.watch is not None else ""
    print(
        f"zerograd serve: {url}/  (graphs: {url}/graph/apple, digits: {url}/digits, training: {url}/train"
        f"{watching}); Ctrl-C stops it",
        flush=True,
    )
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    except KeyboardInterrupt:
        pass
    return 0
