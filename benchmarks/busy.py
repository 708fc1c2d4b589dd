"""A busy machine: zerograd's thread choice against fixed BLAS threads and PyTorch, with other processes running.

Starts ``--busy`` processes that keep one core each busy with NumPy products (one BLAS thread each, as other
training jobs would), then times, alternating process by process over rounds, ``bench_wall.py`` under: ``rule`` (the
size rule, untimed: zerograd before issue 24), ``blas1`` / ``blasN`` (BLAS held to 1 or to every core), ``auto``
(the default: timed, the rule's bits unless another setting is 1.5x faster), ``identical`` (timed, only settings
with the rule's bits), ``fastest`` (timed, any setting, recorded), and ``bench_torch.py`` (PyTorch eager, its
default threads). Reported: medians of epochs 2.. and the ratios the issue's targets are stated in. The busy
processes are ended (by their own pid) at the end.

    python benchmarks/busy.py --busy 2 --net wide-adam --rounds 3
    python benchmarks/busy.py --busy 0 --net book          # the same rows on a quiet machine
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
NETS = {
    "book": ["--hidden=50", "--batch-size=100", "--lr=0.1"],
    "wide-adam": ["--hidden-list=256,128", "--optimizer=adam", "--batch-size=100", "--lr=0.001"],
    "convnet": ["--net=convnet", "--hidden=100", "--batch-size=100", "--lr=0.001"],
}
SPINNER = (
    "import numpy as np\n"
    "a = np.random.default_rng(0).random((256, 256), dtype=np.float32)\n"
    "while True:\n    a = (a @ a) * np.float32(1e-3)\n"
)


def run(script: str, options: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, str(HERE / script), *options], capture_output=True, text=True, cwd=HERE, env=env
    )
    if result.returncode != 0:
        raise SystemExit(f"{script} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busy", type=int, default=2, help="busy processes to start beside the runs")
    parser.add_argument("--net", choices=NETS, default="wide-adam")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per process, the first not counted")
    parser.add_argument("--train-samples", type=int, default=20000, help="training samples per epoch")
    parser.add_argument("--dataset", default="fashion-mnist")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    settings = {
        "rule": ["--thread-choice=off"],
        "blas1": ["--blas=1"],
        f"blas{cores}": [f"--blas={cores}"],
        "auto": ["--thread-choice=auto"],
        "identical": ["--thread-choice=identical"],
        "fastest": ["--thread-choice=fastest"],
    }
    common = [
        *NETS[args.net],
        f"--epochs={args.epochs}",
        f"--dataset={args.dataset}",
        f"--train-samples={args.train_samples}",
    ]
    with_torch = importlib.util.find_spec("torch") is not None
    spinners = [
        subprocess.Popen(
            [sys.executable, "-c", SPINNER], env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        )
        for _ in range(args.busy)
    ]
    results: dict[str, list[list[float]]] = {name: [] for name in [*settings, *(["torch"] if with_torch else [])]}
    chosen: dict[str, list] = {name: [] for name in settings}
    try:
        for round_ in range(args.rounds):
            for name in results:
                r = run("bench_torch.py", common) if name == "torch" else run("bench_wall.py", common + settings[name])
                results[name].append(r["epoch_seconds"][1:])
                if name in chosen:
                    chosen[name].append(r.get("thread_choices"))
                print(
                    f"  round {round_ + 1} {name:<10} "
                    + " ".join(f"{s:.3f}" for s in r["epoch_seconds"])
                    + (f"  {r.get('thread_choices')}" if name in chosen else ""),
                    flush=True,
                )
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    load = os.getloadavg()
    medians = {name: statistics.median(s for run_ in runs for s in run_) for name, runs in results.items()}
    best_fixed = min(medians["blas1"], medians[f"blas{cores}"])
    print(
        f"\n{args.net} ({' '.join(NETS[args.net])}), {args.train_samples} samples/epoch, {args.busy} busy "
        f"processes on {cores} cores, {args.rounds} rounds; load average at the end {load[0]:.2f}"
    )
    print("| setting | s/epoch (median) | x best of BLAS {1, all} | x PyTorch |")
    print("|---|---|---|---|")
    for name, median in medians.items():
        vs_torch = f"{median / medians['torch']:.2f}" if "torch" in medians else "n/a"
        print(f"| {name} | {median:.3f} | {median / best_fixed:.2f} | {vs_torch} |")
    print(f"thread choices: { {k: v for k, v in chosen.items() if k in ('auto', 'identical', 'fastest')} }")


if __name__ == "__main__":
    main()
