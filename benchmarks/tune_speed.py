"""`zerograd tune --preset book`: trials per minute with 1 and 2 workers, and successive halving against no pruning.

1. Throughput: the book's search (50 epochs of a [100]*6 net on 400 images per trial) with ``--workers 1`` and
   ``--workers 2``, each a separate `zerograd tune` process on a fresh SQLite study, alternating 1 2 1 2 ... over
   ``--rounds`` rounds. Trials per minute are counted from the study's own timestamps (first trial's start to last
   trial's end), so interpreter start, data loading and the final report are not part of it. Medians and their
   ratio are printed.
2. Pruning: the same ``--search-trials`` trials (the trial-seeded random sampler gives trial k the same lr and
   weight decay in both runs) with ``--prune none`` and ``--prune halving``: epochs trained in all and the best
   validation accuracy of each.

    python benchmarks/tune_speed.py                       # 2 rounds of 30 trials, then the 100-trial search
    python benchmarks/tune_speed.py --rounds 3 --trials 40 --search-trials 100 --dataset mnist
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tune(out: Path, *args: str) -> float:
    """Run `zerograd tune --preset book ...` into ``out``; return the wall seconds."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "zerograd", "tune", "--preset", "book", "--out", str(out), "--no-plot", *args],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"zerograd tune failed:\n{proc.stderr}")
    return time.perf_counter() - started


def load(out: Path):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna.load_study(study_name="zerograd", storage=f"sqlite:///{out / 'tune.db'}")


def trials_per_minute(out: Path) -> float:
    done = [t for t in load(out).trials if t.state.name in ("COMPLETE", "PRUNED")]
    span = (max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)).total_seconds()
    return 60 * len(done) / span


def search_summary(out: Path) -> tuple[int, float, int]:
    """(epochs trained, best validation accuracy, its trial number)."""
    trials = [t for t in load(out).trials if t.state.name in ("COMPLETE", "PRUNED")]
    epochs = sum(len(t.intermediate_values) for t in trials)
    best = max((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: (t.value, -t.number))
    return epochs, best.value, best.number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="alternating 1-worker / 2-worker runs")
    parser.add_argument("--trials", type=int, default=30, help="trials per throughput run")
    parser.add_argument("--search-trials", type=int, default=100, help="trials of the pruning comparison")
    parser.add_argument("--dataset", default="mnist", help="the book's MNIST; offline: the bundled sample")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-pruning", action="store_true")
    parser.add_argument("--keep", default=None, help="keep the studies and outputs in this folder")
    args = parser.parse_args()
    common = ["--dataset", args.dataset]
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="tune-bench-") as tmp:
        root = Path(args.keep or tmp)
        if not args.skip_throughput:
            speeds: dict[int, list[float]] = {1: [], 2: []}
            for r in range(args.rounds):
                for workers in (1, 2):
                    out = root / f"speed-{workers}-{r}"
                    wall = tune(out, *common, "--trials", str(args.trials), "--workers", str(workers))
                    speeds[workers].append(trials_per_minute(out))
                    print(
                        f"round {r + 1}, {workers} worker(s): {speeds[workers][-1]:.1f} trials/min "
                        f"({wall:.1f} s wall for {args.trials} trials)",
                        flush=True,
                    )
            one, two = statistics.median(speeds[1]), statistics.median(speeds[2])
            print(
                f"\n| workers | trials/min (median of {args.rounds}) | vs 1 worker |\n|---|---|---|\n"
                f"| 1 | {one:.1f} | 1.00 |\n| 2 | {two:.1f} | {two / one:.2f} |\n",
                flush=True,
            )
        if not args.skip_pruning:
            rows = []
            for prune in ("none", "halving"):
                out = root / f"prune-{prune}"
                wall = tune(out, *common, "--trials", str(args.search_trials), "--workers", "2", "--prune", prune)
                rows.append((prune, *search_summary(out), wall))
                print(
                    f"--prune {prune}: {rows[-1][1]} epochs, best val acc {rows[-1][2]:.4f} (trial "
                    f"{rows[-1][3]}), {wall:.0f} s wall",
                    flush=True,
                )
            full = rows[0][1]
            print("\n| --prune | epochs trained | share of none | best val acc | best trial |\n|---|---|---|---|---|")
            for prune, epochs, best, number, _ in rows:
                print(f"| {prune} | {epochs} | {epochs / full:.0%} | {best:.4f} | {number} |")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
