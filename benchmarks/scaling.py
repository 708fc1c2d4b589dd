"""How the cost of training grows with width and batch size: zerograd's Trainer against PyTorch (CPU, eager).

The net is the chapter's two-layer 784-H-10 (SGD, lr 0.1, float32). Two sweeps share one point:
widths H (50, 200, 1000, 4000) at batch 256, and batch sizes (32 ... 1024) at H = 1000.

Method, as in run.py: every measurement is a fresh process running one worker (bench_zerograd.py or
bench_torch.py), because the BLAS/OpenMP thread pools of two libraries in one process slow each other. The
processes alternate zerograd, PyTorch, point after point, and the rounds go over the whole grid, so a slow
spell of the machine hits one round of many points rather than every round of one. Each process trains
--epochs passes over the first --train-samples samples; its first epoch warms caches and thread pools and is
not counted. Per point and implementation the median of all counted epochs is scaled by 60000/--train-samples
to seconds per full 60,000-sample epoch; the ratio is zerograd's median over PyTorch's (above 1: slower).

Prints a markdown table and writes a figure (default docs/images/speed-scaling.png) and the raw numbers beside
it (speed-scaling.json), from which the README table can be regenerated.

    python benchmarks/scaling.py                                  # the full grid, 2 rounds
    python benchmarks/scaling.py --rounds 3 --out /tmp/scaling.png
    python benchmarks/scaling.py --rounds 1 --epochs 2 --train-samples 2048 --widths 50,200 --batches 64,256
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

from run import run_worker

from _common import positive_int

FULL_EPOCH = 60_000  # samples in a Fashion-MNIST (and MNIST) training epoch
WIDTH_SWEEP_BATCH = 256  # batch size while the width varies
BATCH_SWEEP_HIDDEN = 1000  # width while the batch size varies
LR = 0.1
WORKERS = {"zerograd": "bench_zerograd.py", "torch": "bench_torch.py"}  # measured in this order each time
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "speed-scaling.png"


def int_list(text: str) -> list[int]:
    values = [positive_int(part) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError("expected a comma-separated list of positive integers")
    return values


def grid(widths: list[int], batches: list[int]) -> list[tuple[int, int]]:
    """(hidden, batch) points of both sweeps; the point they share is measured once."""
    points = [(hidden, WIDTH_SWEEP_BATCH) for hidden in widths]
    points += [(BATCH_SWEEP_HIDDEN, batch) for batch in batches]
    return list(dict.fromkeys(points))


def measure(
    points: list[tuple[int, int]], rounds: int, epochs: int, train_samples: int, dataset: str
) -> tuple[dict[tuple[int, int], dict[str, list[dict]]], str]:
    """Every worker's JSON per point and implementation, and the BLAS NumPy used."""
    runs: dict[tuple[int, int], dict[str, list[dict]]] = {point: {name: [] for name in WORKERS} for point in points}
    for round_ in range(rounds):
        for hidden, batch in points:
            options = [
                "--net=mlp",
                f"--hidden={hidden}",
                f"--batch-size={batch}",
                f"--lr={LR}",
                f"--epochs={epochs}",
                f"--train-samples={train_samples}",
                f"--dataset={dataset}",
            ]
            for name, script in WORKERS.items():
                result = run_worker(script, options)
                runs[hidden, batch][name].append(result)
                print(
                    f"  round {round_ + 1}/{rounds} H={hidden:<5} batch={batch:<5} {name:<8} "
                    + " ".join(f"{s:.3f}" for s in result["epoch_seconds"]),
                    flush=True,
                )
    blas = runs[points[0]]["zerograd"][0]["blas"]
    return runs, blas


def seconds_per_full_epoch(worker_runs: list[dict], train_samples: int) -> float:
    # the first epoch of each process is warm-up; with a single epoch there is nothing else to count
    counted = [s for run in worker_runs for s in run["epoch_seconds"][1:] or run["epoch_seconds"]]
    return statistics.median(counted) * FULL_EPOCH / train_samples


def summarise(runs: dict[tuple[int, int], dict[str, list[dict]]], train_samples: int) -> list[dict]:
    rows = []
    for (hidden, batch), by_name in runs.items():
        zerograd = seconds_per_full_epoch(by_name["zerograd"], train_samples)
        torch = seconds_per_full_epoch(by_name["torch"], train_samples)
        rows.append(
            {
                "hidden": hidden,
                "batch": batch,
                "zerograd_s_per_epoch": zerograd,
                "torch_s_per_epoch": torch,
                "ratio": zerograd / torch,
                # raw per-process epoch times, warm-up included, to recompute anything later
                "zerograd_epoch_seconds": [r["epoch_seconds"] for r in by_name["zerograd"]],
                "torch_epoch_seconds": [r["epoch_seconds"] for r in by_name["torch"]],
                "torch_threads": by_name["torch"][0].get("torch_threads"),
            }
        )
    return rows


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| hidden | batch | zerograd s/epoch | PyTorch s/epoch | × PyTorch |",
        "|-------:|------:|-----------------:|----------------:|----------:|",
    ]
    for row in sorted(rows, key=lambda r: (r["hidden"], r["batch"])):
        lines.append(
            f"| {row['hidden']} | {row['batch']} | {row['zerograd_s_per_epoch']:.3f} "
            f"| {row['torch_s_per_epoch']:.3f} | {row['ratio']:.2f} |"
        )
    return "\n".join(lines)


def draw(rows: list[dict], blas: str, date: str, out: Path) -> None:
    from matplotlib.figure import Figure

    from zerograd.plot import save_figure  # atomic write, folder created

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_width, ax_batch = fig.subplots(1, 2, sharey=True)
    sweeps = [
        (ax_width, "hidden", "batch", WIDTH_SWEEP_BATCH, "hidden units H (batch 256)", 10),
        (ax_batch, "batch", "hidden", BATCH_SWEEP_HIDDEN, "batch size (H = 1000)", 2),
    ]
    for ax, varied, fixed, fixed_value, xlabel, log_base in sweeps:
        sweep = sorted((r for r in rows if r[fixed] == fixed_value), key=lambda r: r[varied])
        xs, ratios = [r[varied] for r in sweep], [r["ratio"] for r in sweep]
        ax.plot(xs, ratios, "o-", color="tab:blue")
        for x, ratio in zip(xs, ratios, strict=True):
            ax.annotate(f"{ratio:.2f}×", (x, ratio), textcoords="offset points", xytext=(0, 7), ha="center")
        ax.axhline(1.0, color="gray", linestyle="--", linewidth=1)
        ax.set_xscale("log", base=log_base)
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    ax_width.set_ylabel("zerograd time / PyTorch time\n(above 1: zerograd slower)")
    top = max([r["ratio"] for r in rows] + [1.0])
    ax_width.set_ylim(0, top * 1.2)
    fig.suptitle(f"784-H-10, SGD, float32: zerograd Trainer against PyTorch (CPU)\nBLAS: {blas}, {date}")
    save_figure(fig, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=positive_int, default=2, help="alternating rounds over the whole grid")
    parser.add_argument("--epochs", type=positive_int, default=3, help="epochs per process, the first is warm-up")
    parser.add_argument(
        "--train-samples",
        type=positive_int,
        default=12_000,
        help="training samples per epoch; times are scaled to 60,000",
    )
    parser.add_argument(
        "--widths",
        type=int_list,
        default=[50, 200, 1000, 4000],
        help=f"comma-separated hidden sizes, at batch {WIDTH_SWEEP_BATCH}",
    )
    parser.add_argument(
        "--batches",
        type=int_list,
        default=[32, 64, 128, 256, 512, 1024],
        help=f"comma-separated batch sizes, at H = {BATCH_SWEEP_HIDDEN}",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="the figure (PNG); the JSON goes beside it [default: docs/images/speed-scaling.png]",
    )
    parser.add_argument("--dataset", default="fashion-mnist", help="zerograd dataset name")
    args = parser.parse_args()
    for needed in ("torch", "matplotlib"):  # known before the run, not after it
        if importlib.util.find_spec(needed) is None:
            print(f"{needed} is not installed: this benchmark compares against PyTorch and draws with matplotlib")
            sys.exit(2)

    load = os.getloadavg()[0]
    if load > 0.5:  # other work steals cores, and PyTorch's spinning OpenMP threads suffer far more than NumPy
        print(f"warning: load average {load:.1f} on {os.cpu_count()} CPUs before starting: the timings will be noise")
    points = grid(args.widths, args.batches)
    print(
        f"{len(points)} points × 2 implementations × {args.rounds} rounds, {args.epochs} epochs of "
        f"{args.train_samples} samples each"
    )
    start = time.perf_counter()
    runs, blas = measure(points, args.rounds, args.epochs, args.train_samples, args.dataset)
    rows = summarise(runs, args.train_samples)
    date = datetime.date.today().isoformat()

    print(
        f"\n784-H-10, SGD lr {LR}, float32, {args.dataset}; seconds per 60,000-sample epoch (median of "
        f"{args.rounds} rounds × {args.epochs - 1 or 1} epochs of {args.train_samples} samples, scaled)"
    )
    print(markdown_table(rows))
    print(
        f"BLAS (NumPy): {blas}; PyTorch threads: {rows[0]['torch_threads']}; {os.cpu_count()} CPUs; "
        f"{time.perf_counter() - start:.0f} s"
    )

    from zerograd.io.fileio import write_text

    # the numbers first: a failing figure must not lose a long run
    record = {
        "date": date,
        "blas": blas,
        "cpus": os.cpu_count(),
        "dataset": args.dataset,
        "lr": LR,
        "dtype": "float32",
        "rounds": args.rounds,
        "epochs": args.epochs,
        "train_samples": args.train_samples,
        "load_average_before": load,
        "points": rows,
    }
    json_path = args.out.with_suffix(".json")
    write_text(json_path, json.dumps(record, indent=1) + "\n", make_dirs=True)
    draw(rows, blas, date, args.out)
    print(f"wrote {args.out} and {json_path}")


if __name__ == "__main__":
    main()
