"""The book's chapter-7 and chapter-8 scripts run on zerograd through one-line shims, and give sensible numbers.

The scripts (tests/book_scripts/ch07, ch08) are written in the book's style, scaled down (fewer images and
epochs) so that the suite stays quick. They write params.pkl files, so they run in a copy of the tree.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent / "book_scripts"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("book") / "book_scripts"
    shutil.copytree(SCRIPTS, root, ignore=shutil.ignore_patterns("__pycache__", "*.pkl", "*.png"))
    return root


def run_script(path: Path) -> dict[str, float]:
    # conftest.py sets ZEROGRAD_OFFLINE=1: the scripts get the bundled MNIST sample, never a download
    env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, path.name], cwd=path.parent, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"{path.name} failed:\n{result.stdout}\n{result.stderr}"
    return {key: float(value) for key, value in re.findall(r"^(\w+):(\S+)$", result.stdout, flags=re.M)}


def test_chapter7_gradient_check(tree):
    diffs = run_script(tree / "ch07" / "gradient_check.py")
    assert set(diffs) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    # The Affine layers agree to rounding. W1 and b1 move the convolution's outputs, and with the book's
    # h = 1e-4 a few of those cross a ReLU kink or swap a pooling maximum: differences of ~1e-6 (with h = 1e-5
    # they are 1e-11, see test_convnets.py for the exact check).
    assert all(diffs[k] <= 1e-9 for k in ("W2", "b2", "W3", "b3")), diffs
    assert diffs["W1"] <= 1e-4 and diffs["b1"] <= 1e-4, diffs


def test_chapter7_train_convnet_then_visualize_filter(tree):
    values = run_script(tree / "ch07" / "train_convnet.py")
    assert values["epochs"] == 4
    assert values["train"] > 0.6 and values["test"] > 0.6  # 1,000 digits, 40 Adam steps
    assert (tree / "ch07" / "params.pkl").is_file()
    shown = run_script(tree / "ch07" / "visualize_filter.py")
    assert shown["filters"] == 30 and shown["changed"] > 1e-3  # the trained filters were loaded
    assert (tree / "ch07" / "filters_after.png").stat().st_size > 1000


def test_chapter8_train_deepnet(tree):
    values = run_script(tree / "ch08" / "train_deepnet.py")
    assert 1.0 < values["loss_first"] < 4.0 and 0.0 < values["loss_last"] < 4.0
    assert 0.0 <= values["test"] <= 1.0
    assert (tree / "ch08" / "deep_convnet_params.pkl").is_file()


def test_book_layers_and_util_names():
    from zerograd.book import layers, util

    for name in ("Convolution", "Pooling", "Affine", "Relu", "SoftmaxWithLoss"):
        assert hasattr(layers, name)
    for name in ("im2col", "col2im", "conv_output_size"):
        assert hasattr(util, name)
    assert util.conv_output_size(28, 5) == 24 and util.conv_output_size(7, 2, stride=2) == 3.5
