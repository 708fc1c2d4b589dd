"""What a user waits for: an epoch's wall time against its training time, and the data load at start.

Each run is a subprocess of ``bench_wall.py`` (a ``zerograd train``-like run: a checkpoint after every epoch),
alternating A B A B over rounds; per config the medians over rounds of: the data load at start (the first
process of all loads the dataset cold, decoding the .gz; the others find the decoded cache), the wall time of
epochs 2.. divided by their training time, and the first epoch's wall time (which includes the thread choice).
``--baseline-src`` times another checkout's src/ in between (one without the cache or the running accuracy).

    python benchmarks/wall_time.py                                 # book, convnet, wide-adam; 3 rounds
    python benchmarks/wall_time.py --config book --rounds 5 --baseline-src /tmp/main/src
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = {
    "book": ["--hidden=50", "--batch-size=100", "--lr=0.1"],  # zerograd train's default run
    "convnet": ["--net=convnet", "--hidden=100", "--batch-size=100", "--lr=0.001"],  # zerograd train --net convnet
    "wide-adam": ["--hidden-list=256,128", "--optimizer=adam", "--batch-size=100", "--lr=0.001"],
}


def run(options: list[str], env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, str(HERE / "bench_wall.py"), *options], capture_output=True, text=True, cwd=HERE, env=env
    )
    if result.returncode != 0:
        raise SystemExit(f"bench_wall.py failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=[*CONFIGS, "all"], default="all")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per process (the first includes start-up)")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--train-samples", type=int, default=None, help="train on the first N samples only")
    parser.add_argument("--baseline-src", default=None, help="another checkout's src/, timed in between")
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="zerograd-bench-cache-")  # a fresh decoded cache: the first load is cold
    trees = {"zerograd": os.pathsep.join([str(HERE.parent / "src"), os.environ.get("PYTHONPATH", "")])}
    if args.baseline_src:
        trees["baseline"] = str(Path(args.baseline_src).resolve())
    common = [f"--epochs={args.epochs}", f"--dataset={args.dataset}"]
    if args.train_samples:
        common.append(f"--train-samples={args.train_samples}")
    first_load = None
    for config in CONFIGS if args.config == "all" else [args.config]:
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        for round_ in range(args.rounds):
            for name, src in trees.items():
                env = {**os.environ, "PYTHONPATH": src, "XDG_CACHE_HOME": cache}
                runs[name].append(run(CONFIGS[config] + common, env))
                r = runs[name][-1]
                if first_load is None:
                    first_load = r["load_seconds"]
                print(
                    f"  {config} round {round_ + 1} {name:<9} load {r['load_seconds']:.3f} s  wall "
                    + " ".join(f"{w:.3f}" for w in r["epoch_wall"])
                    + "  train "
                    + " ".join(f"{s:.3f}" for s in r["epoch_seconds"])
                    + f"  {r['thread_choices']}",
                    flush=True,
                )
        print(f"\n{config} ({' '.join(CONFIGS[config])}), {args.dataset}, {args.rounds} rounds x {args.epochs} epochs")
        print(
            "| tree | load s (2nd+ start) | epoch wall / train (epochs 2..) | epoch train s | first epoch wall s "
            "| train acc | test acc |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, results in runs.items():
            loads = [r["load_seconds"] for r in results if r["load_seconds"] != first_load]
            ratios = [w / s for r in results for w, s in zip(r["epoch_wall"][1:], r["epoch_seconds"][1:], strict=True)]
            trains = [s for r in results for s in r["epoch_seconds"][1:]]
            print(
                f"| {name} | {statistics.median(loads) if loads else float('nan'):.3f} | "
                f"{statistics.median(ratios):.2f} | {statistics.median(trains):.3f} | "
                f"{statistics.median(r['epoch_wall'][0] for r in results):.3f} | {results[0]['train_acc_on']} | "
                f"{statistics.median(r['test_accuracy'] for r in results):.4f} |"
            )
    print(f"\nfirst (cold) load of all: {first_load:.3f} s; load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
