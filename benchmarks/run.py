"""Side-by-side speed: zerograd against a book-style NumPy reference and PyTorch (CPU, eager), same training.

Each implementation runs in its own subprocess (BLAS/OpenMP thread pools of two libraries in one process slow each
other), alternating A B C A B C over several rounds; per implementation the median of all its timed epochs is
reported, with ratios of medians. "zerograd" trains with the Trainer, "zerograd-loop" with a user's own book-style
loop over `net.gradient`. Also the chapter's gradient check, element loop against zerograd's modes.

    python benchmarks/run.py                      # both configs, 3 rounds, and the gradient check
    python benchmarks/run.py --config book --rounds 5
    python benchmarks/run.py --config book --baseline-src /tmp/old/src   # against an earlier zerograd checkout
    python benchmarks/run.py --config convnet     # chapter 7's SimpleConvNet, Adam: zerograd, book-style, PyTorch
    python benchmarks/run.py --config deepconvnet --book-repo /path/to/dlfs   # chapter 8's, and the book's own code
    python benchmarks/run.py --only zerograd,zerograd-loop,torch --skip-gradcheck   # some rows only
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name → (worker script, extra arguments)
WORKERS = {
    "zerograd": ("bench_zerograd.py", []),
    "zerograd-f64": ("bench_zerograd.py", ["--dtype=float64"]),  # accuracy of float32 against float64
    "zerograd-baseline": ("bench_zerograd.py", []),  # the same worker on --baseline-src's zerograd
    "zerograd-loop": ("bench_user_loop.py", []),  # a user's own loop: net.gradient, params[k] -= lr * g[k]
    "loop-baseline": ("bench_user_loop.py", []),  # that loop on --baseline-src's zerograd
    "book": ("bench_book.py", []),
    "torch": ("bench_torch.py", []),
}
CONFIGS = {
    "book": {"hidden": 50, "batch_size": 100, "lr": 0.1},  # the chapter's 784-50-10, batch 100
    "wide": {"hidden": 1000, "batch_size": 256, "lr": 0.1},  # 784-1000-10, batch 256
    # chapter 7's SimpleConvNet (conv 30x5x5, pool 2x2, Affine 100, Affine 10), Adam lr 0.001, batch 100; its
    # book-style reference takes about a minute an epoch, so it runs only when asked for (not in "all")
    "convnet": {"hidden": 100, "batch_size": 100, "lr": 0.001, "net": "convnet"},
    # chapter 8's DeepConvNet (six 3x3 convolutions, Affine 50, dropout), Adam lr 0.001, batch 100, on the first
    # 6,000 training images per "epoch" (a full one takes a minute in zerograd and ten in the book's code)
    "deepconvnet": {"hidden": 50, "batch_size": 100, "lr": 0.001, "net": "deepconvnet", "train_samples": 6000},
}
# implementations per net: the book-style reference of the convnet is its own worker; no float64 zerograd run;
# "book-own" is the book's own code from a checkout of its repository (--book-repo)
CONVNET_WORKERS = {
    "zerograd": ("bench_zerograd.py", []),
    "book": ("bench_book_convnet.py", []),
    "torch": ("bench_torch.py", []),
    "book-own": ("bench_book_own.py", []),
}
BOOK_REPO: str | None = None  # --book-repo: the book's repository, for the "book-own" worker


# PYTHONPATH of the "zerograd-baseline" worker: another checkout's src/, to measure a change against its parent
BASELINE_SRC: str | None = None


def run_worker(script: str, options: list[str], name: str = "") -> dict:
    baseline = name.endswith("-baseline") and BASELINE_SRC
    env = {**os.environ, "PYTHONPATH": BASELINE_SRC} if baseline else None
    result = subprocess.run(
        [sys.executable, str(HERE / script), *options], capture_output=True, text=True, cwd=HERE, env=env
    )
    if result.returncode != 0:
        raise SystemExit(f"{script} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_training(config: str, rounds: int, epochs: int, dataset: str, implementations: list[str]) -> None:
    settings = CONFIGS[config]
    options = [
        f"--hidden={settings['hidden']}",
        f"--batch-size={settings['batch_size']}",
        f"--lr={settings['lr']}",
        f"--epochs={epochs}",
        f"--dataset={dataset}",
        f"--net={settings.get('net', 'mlp')}",
    ]
    if settings.get("train_samples"):
        options.append(f"--train-samples={settings['train_samples']}")
    workers = CONVNET_WORKERS if settings.get("net") in ("convnet", "deepconvnet") else WORKERS
    implementations = [name for name in implementations if name in workers]
    if settings.get("net") == "deepconvnet":
        implementations = [name for name in implementations if name != "book"]  # no book-style DeepConvNet worker
    if BOOK_REPO and "book-own" in workers:
        implementations.append("book-own")
    results: dict[str, list[dict]] = {name: [] for name in implementations}
    for round_ in range(rounds):
        for name in implementations:
            script, extra = workers[name]
            if name == "book-own":
                extra = [*extra, f"--book-repo={BOOK_REPO}"]
            results[name].append(run_worker(script, options + extra, name))
            seconds = results[name][-1]["epoch_seconds"]
            print(f"  round {round_ + 1}/{rounds} {name:<12} " + " ".join(f"{s:.3f}" for s in seconds), flush=True)
    # the first epoch of each process warms caches and thread pools: time the rest
    medians = {
        name: statistics.median(s for r in runs for s in r["epoch_seconds"][1:] or r["epoch_seconds"])
        for name, runs in results.items()
    }
    net = {
        "convnet": "SimpleConvNet conv 30x5x5, pool 2x2, Affine 100, Adam",
        "deepconvnet": f"DeepConvNet 6 conv 3x3, 3 pool 2x2, Affine 50, Adam, {settings.get('train_samples')} images",
    }.get(settings.get("net", ""), f"784-{settings['hidden']}-10")
    print(
        f"\n{config}: {net}, batch {settings['batch_size']}, lr {settings['lr']}, "
        f"{dataset}, {rounds} rounds × {epochs} epochs"
    )
    width = max(14, *map(len, results))
    book = "book" if "book" in medians else "book-own"
    against = {"book": "× book-style", "book-own": "× book's own"}[book] if book in medians else "× book"
    header = f"| {'implementation':<{width}} | s/epoch (median) | × PyTorch | {against} | test acc | peak RSS MiB |"
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    for name, runs in results.items():
        vs_torch = f"{medians[name] / medians['torch']:.2f}" if "torch" in medians else "n/a"
        vs_book = f"{medians[name] / medians[book]:.2f}" if book in medians else "n/a"
        accuracy = statistics.median(r["test_accuracy"] for r in runs)
        rss = max(r["peak_rss_mib"] for r in runs)
        print(
            f"| {name:<{width}} | {medians[name]:16.4f} | {vs_torch:>9} | {vs_book:>12} | {accuracy:8.4f} "
            f"| {rss:12.0f} |"
        )
    print(f"BLAS (NumPy): {results[implementations[0]][0]['blas']}\n")


def bench_gradcheck(rounds: int, dataset: str) -> None:
    modes = ["loop", "exhaustive", "fast"]
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    for _ in range(rounds):
        for mode in modes:
            runs[mode].append(run_worker("bench_gradcheck.py", [f"--mode={mode}", f"--dataset={dataset}"]))
    loop = statistics.median(r["seconds"] for r in runs["loop"])
    print("gradient check: TwoLayerNet(784, 50, 10), float64, 3 images, h = 1e-4")
    print("| mode | seconds (median) | speed-up vs loop | verdict | mean |diff| W1, b1, W2, b2 |")
    print("|---|---|---|---|---|")
    for mode in modes:
        seconds = statistics.median(r["seconds"] for r in runs[mode])
        verdicts = {r["passed"] for r in runs[mode]}
        diffs = ", ".join(f"{v:.1e}" for v in runs[mode][-1]["mean_abs_diff"].values())
        print(
            f"| {mode} | {seconds:.4f} | {loop / seconds:.1f}× | {'PASS' if verdicts == {True} else 'FAIL'} | {diffs} |"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--config", choices=[*CONFIGS, "all"], default="all", help="which training config (all: book and wide)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per config")
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs per worker process, the first is warm-up [default: 3; 2 for convnet]",
    )
    parser.add_argument("--dataset", default="fashion-mnist", help="zerograd dataset name (full Fashion-MNIST)")
    parser.add_argument("--skip-gradcheck", action="store_true", help="time training only")
    parser.add_argument(
        "--only", default=None, help=f"comma-separated implementations to time, of {', '.join(WORKERS)}"
    )
    parser.add_argument(
        "--baseline-src",
        default=None,
        help="the src/ folder of another zerograd checkout, timed as 'zerograd-baseline' in between",
    )
    parser.add_argument(
        "--book-repo",
        default=None,
        help="a checkout of the book's repository: adds its own code ('book-own') to the convnet configs",
    )
    args = parser.parse_args()
    global BOOK_REPO
    BOOK_REPO = args.book_repo
    implementations = ["zerograd", "zerograd-loop", "zerograd-f64", "book"]
    if args.baseline_src:
        global BASELINE_SRC
        BASELINE_SRC = str(Path(args.baseline_src).resolve())
        implementations[2:2] = ["zerograd-baseline", "loop-baseline"]
    if importlib.util.find_spec("torch") is not None:
        implementations.append("torch")
    else:
        print("PyTorch not installed: `pip install torch==2.13.0` adds it to the comparison\n")
    if args.only:
        unknown = set(args.only.split(",")) - set(WORKERS)
        if unknown:
            parser.error(
                f"--only: unknown implementation(s) {', '.join(sorted(unknown))}; choose from {', '.join(WORKERS)}"
            )
        if "baseline" in args.only and not args.baseline_src:
            parser.error("--only: the baseline rows need --baseline-src")
        implementations = [name for name in args.only.split(",") if name != "torch" or "torch" in implementations]
    for config in [c for c in CONFIGS if "convnet" not in c] if args.config == "all" else [args.config]:
        epochs = args.epochs or (2 if "convnet" in config else 3)
        bench_training(config, args.rounds, epochs, args.dataset, implementations)
    if not args.skip_gradcheck and "convnet" not in args.config:
        bench_gradcheck(args.rounds, args.dataset)


if __name__ == "__main__":
    main()
