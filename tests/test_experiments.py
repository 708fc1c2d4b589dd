"""Chapter 6's comparisons (zerograd.experiments and `zerograd compare`), scaled down, on the bundled digits."""

import subprocess
import sys

import numpy as np
import pytest

from zerograd import experiments
from zerograd.datasets import load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("mnist-sample")


def test_optimizers_all_lower_the_loss_and_adam_beats_sgd(digits):
    result = experiments.compare_optimizers(digits.x_train, digits.t_train, iterations=150)
    curves = result.panels["loss"]
    assert set(curves) == {"sgd", "momentum", "adagrad", "adam"} and all(len(c) == 150 for c in curves.values())
    for name, losses in curves.items():
        assert np.mean(losses[-20:]) < 0.6 * np.mean(losses[:5]), name
    assert np.mean(curves["adam"][-20:]) < np.mean(curves["sgd"][-20:])  # as in the book's figure 6-9


def test_small_initial_weights_stall_where_he_learns(digits):
    final = {
        label: np.mean(c[-20:])
        for label, c in experiments.compare_init(digits.x_train, digits.t_train, iterations=300).panels["loss"].items()
    }
    assert final["std=0.01"] > 2.2  # ln 10 = 2.30: no signal reaches the output through four tiny layers
    assert final["He"] < 1.0 and final["He"] < final["Xavier"] < final["std=0.01"] - 0.2  # the book's order


def test_batchnorm_comparison_per_scale(digits):
    result = experiments.compare_batchnorm(digits.x_train, digits.t_train, scales=(0.01,), epochs=6)
    (panel,) = result.panels
    final = result.final(panel)
    assert final["batch norm"] > 0.7 and final["none"] < 0.3, final


def test_overfit_comparison_shows_the_gap_and_its_remedies(digits):
    result = experiments.compare_overfit(digits.x_train, digits.t_train, digits.x_test, digits.t_test, epochs=60)
    plain = result.panels["no regularisation"]
    assert len(plain["train"]) == 60
    assert plain["train"][-1] - plain["test"][-1] > 0.1  # 300 samples: memorised, not generalised
    decayed = result.panels["weight decay λ=0.1"]
    assert decayed["train"][-1] - decayed["test"][-1] < plain["train"][-1] - plain["test"][-1]


def test_compare_command_writes_a_figure(tmp_path):
    from PIL import Image

    out = tmp_path / "fig.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "zerograd",
            "compare",
            "init",
            "--dataset",
            "mnist-sample",
            "--iterations",
            "40",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "final loss: std=0.01" in result.stdout and f"wrote {out}" in result.stdout
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size[0] > 400
    bad = subprocess.run(
        [sys.executable, "-m", "zerograd", "compare", "batchnorm", "--scales", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--scales must be a positive integer" in bad.stderr
    assert "Traceback" not in bad.stderr
