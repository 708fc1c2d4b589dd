"""The book's scripts of chapters 3, 4, 6, 7 and 8, written in the book's style, run on zerograd through one-line
shims (``common/``, ``dataset/``) and give the numbers the chapters lead to.

The scripts (tests/book_scripts/chNN) are scaled down (fewer images, epochs, trials) so that the suite stays quick;
docs/book-scripts.md lists every script of the book's repository and the test that runs its counterpart. They
write files (params.pkl, images), so they run in a copy of the tree. Chapter 5 and the first chapter-6 scripts are
run by test_book.py.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parent / "book_scripts"
DOC = Path(__file__).resolve().parents[1] / "docs" / "book-scripts.md"


def copy_tree(root: Path) -> Path:
    shutil.copytree(SCRIPTS, root, ignore=shutil.ignore_patterns("__pycache__", "*.pkl", "*.png", "*.npz"))
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return copy_tree(tmp_path_factory.mktemp("book") / "book_scripts")


def run_script(path: Path, *args: str, **env: str) -> dict[str, str]:
    """Run a script where it lies, as a reader would (``python name.py``); its ``key:value`` lines."""
    # conftest.py sets ZEROGRAD_OFFLINE=1: the scripts get the bundled MNIST sample, never a download
    env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", **env}
    result = subprocess.run(
        [sys.executable, *args, path.name], cwd=path.parent, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{path.name} failed:\n{result.stdout}\n{result.stderr}"
    return dict(re.findall(r"^(\w+):(\S+)$", result.stdout, flags=re.M))


def numbers(values: dict[str, str]) -> dict[str, float]:
    return {key: float(value) for key, value in values.items()}


# -- chapter 3 ---------------------------------------------------------------------------------------------------


def test_chapter3_activation_plots(tree):
    x = np.arange(-5.0, 5.0, 0.1)
    step = run_script(tree / "ch03" / "step_function.py")
    assert int(step["points"]) == 100 and int(step["ones"]) == int(np.sum(x > 0))
    assert step["dtype"] == np.dtype(int).name  # dtype=int (the repository's np.int fix, 495ee99)
    sig = numbers(run_script(tree / "ch03" / "sigmoid.py"))
    assert sig == pytest.approx(
        {"first": 1 / (1 + np.exp(5.0)), "middle": 0.5, "last": 1 / (1 + np.exp(-x[-1]))}, rel=1e-12
    )
    relu = numbers(run_script(tree / "ch03" / "relu.py"))
    assert relu["zeros"] == np.sum(x <= 0) and relu["max"] == pytest.approx(x[-1], rel=1e-12)
    both = numbers(run_script(tree / "ch03" / "sig_step_compare.py"))
    assert both["same_side"] == both["points"] == 100


def test_chapter3_mnist_show(tree, tmp_path):
    from zerograd.book.mnist import load_mnist

    (x_train, t_train), _ = load_mnist(flatten=True, normalize=False)
    # PATH without an image viewer: PIL's show() then opens nothing (on a desktop it would open a window)
    shown = run_script(tree / "ch03" / "mnist_show.py", PATH=str(tmp_path))
    assert shown["label"] == str(t_train[0]) and shown["size"] == "28x28"
    assert int(shown["ink"]) == int(x_train[0].sum())


def test_chapter3_inference_with_trained_weights(tree):
    """neuralnet_mnist.py and its batched twin compute, digit by digit and 100 at a time, exactly what the net
    whose weights they load computes: sigmoid(x W1 + b1) → sigmoid(· W2 + b2) → softmax(· W3 + b3)."""
    from zerograd.book.mnist import load_mnist
    from zerograd.book.multi_layer_net import MultiLayerNet
    from zerograd.book.trainer import Trainer

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
    np.random.seed(0)
    net = MultiLayerNet(784, [50, 100], 10, activation="sigmoid", weight_init_std="sigmoid")
    Trainer(
        net,
        x_train[:2000],
        t_train[:2000],
        x_test,
        t_test,
        epochs=3,
        mini_batch_size=100,
        optimizer="Adam",
        optimizer_param={"lr": 0.005},
        verbose=False,
    ).train()
    np.savez(tree / "ch03" / "sample_weight.npz", **net.params)  # the book ships these as sample_weight.pkl
    expected = net.accuracy(x_test, t_test)
    assert expected > 0.8
    one = numbers(run_script(tree / "ch03" / "neuralnet_mnist.py"))["Accuracy"]
    batch = numbers(run_script(tree / "ch03" / "neuralnet_mnist_batch.py"))["Accuracy"]
    assert one == batch
    assert abs(one - expected) <= 1 / len(t_test)  # at most one near-tie digit decided the other way


# -- chapter 4 ---------------------------------------------------------------------------------------------------


def test_chapter4_numerical_gradients_and_descent(tree):
    d1 = numbers(run_script(tree / "ch04" / "gradient_1d.py"))
    assert d1["slope"] == pytest.approx(0.2, abs=1e-9) and d1["touches"] == pytest.approx(0, abs=1e-12)
    d2 = numbers(run_script(tree / "ch04" / "gradient_2d.py"))
    assert d2["points"] == 18 * 18 and d2["error"] < 1e-9  # -grad of x0² + x1² is -(2 x0, 2 x1) at every point
    descent = numbers(run_script(tree / "ch04" / "gradient_method.py"))
    # each step multiplies x by 1 - 2 * lr = 0.8: 20 steps from (-3, 4)
    assert descent["steps"] == 20
    assert (descent["x0"], descent["x1"]) == pytest.approx((-3 * 0.8**20, 4 * 0.8**20), rel=1e-6)
    simple = numbers(run_script(tree / "ch04" / "gradient_simplenet.py"))
    assert simple["error"] < 1e-5  # the 1e-7 inside the book's log moves the gradient by ~1e-6


def test_chapter4_training_with_a_hand_written_backward(tree):
    out = numbers(run_script(tree / "ch04" / "train_neuralnet.py"))
    checks = {key: value for key, value in out.items() if key.startswith("check_")}
    assert len(checks) == 4 and all(d < 1e-6 for d in checks.values()), checks
    assert out["epochs"] == 8  # 600 iterations of 100 over 8,000 digits: an accuracy line every 80
    assert out["loss_last"] < out["loss_first"] / 2  # one batch each: 2.30 falls to about 0.8
    assert out["train"] > 0.75 and out["test"] > 0.75  # 7 epochs of the sample (the book: 0.95 after 16 of 60,000)


# -- chapter 6 (the others: test_book.py) ------------------------------------------------------------------------


def test_chapter6_weight_init_activation_histogram(tree):
    out = numbers(run_script(tree / "ch06" / "weight_init_activation_histogram.py"))
    assert len(out) == 5
    assert all(share > 0.6 for share in out.values()), out  # std 1: most activations sit near 0 or 1


def test_chapter6_weight_init_compare(tree):
    loss = numbers(run_script(tree / "ch06" / "weight_init_compare.py"))
    assert loss["small"] > 2.2  # std 0.01 in four layers: the signal vanishes and the loss stays at ln 10
    assert loss["he"] < loss["xavier"] < loss["small"]


def test_chapter6_hyperparameter_optimization(tree):
    out = numbers(run_script(tree / "ch06" / "hyperparameter_optimization.py"))
    assert out["trials"] == 8 and out["validation"] == 100  # int(500 * 0.2), the repository's 333aadc
    assert out["best_val"] > out["worst_val"]
    assert out["best_lr"] > 1e-3  # as in the book: the best learning rates lie between 1e-3 and 1e-2


# -- chapter 7 ---------------------------------------------------------------------------------------------------


def test_chapter7_gradient_check(tree):
    diffs = numbers(run_script(tree / "ch07" / "gradient_check.py"))
    assert set(diffs) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert all(d < 1e-6 for d in diffs.values()), diffs  # labels (1, 1), as the book passes them


def test_chapter7_simple_convnet_is_zerograds(tree):
    """The SimpleConvNet assembled from common.layers and zerograd.book.simple_convnet's, from one seed: the
    same loss and gradients."""
    code = """
import sys; sys.path.append('..')
import numpy as np
from simple_convnet import SimpleConvNet as Assembled
from zerograd.book.simple_convnet import SimpleConvNet as Library
conv = {'filter_num': 6, 'filter_size': 3, 'pad': 1, 'stride': 1}
nets = []
for make in (Assembled, Library):
    np.random.seed(3)
    nets.append(make(input_dim=(1, 12, 12), conv_param=conv, hidden_size=8, output_size=4))
x, t = np.random.rand(5, 1, 12, 12), np.array([0, 3, 1, 2, 3]).reshape(5, 1)
(a, b), grads = nets, [net.gradient(x, t) for net in nets]
print('loss:' + repr(abs(a.loss(x, t) - b.loss(x, t)) / b.loss(x, t)))
for key in b.params:
    print(key + ':' + repr(float(np.abs(grads[0][key] - grads[1][key]).max() / np.abs(grads[1][key]).max())))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tree / "ch07", capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    rel = {key: float(value) for key, value in re.findall(r"^(\w+):(\S+)$", result.stdout, flags=re.M)}
    assert len(rel) == 7 and all(r < 1e-12 for r in rel.values()), rel


def test_chapter7_train_convnet_then_visualize_and_apply_filters(tree):
    values = numbers(run_script(tree / "ch07" / "train_convnet.py"))
    assert values["epochs"] == 4
    assert values["train"] > 0.6 and values["test"] > 0.6  # 1,000 digits, 40 Adam steps
    assert (tree / "ch07" / "params.pkl").is_file()
    shown = numbers(run_script(tree / "ch07" / "visualize_filter.py"))
    assert shown["filters"] == 30 and shown["changed"] > 1e-3  # the trained filters were loaded
    assert (tree / "ch07" / "filters_after.png").stat().st_size > 1000
    applied = numbers(run_script(tree / "ch07" / "apply_filter.py"))
    assert applied["filters"] == 16 and applied["height"] == 112 - 5 + 1
    assert applied["by_hand"] < 1e-12


# -- chapter 8 ---------------------------------------------------------------------------------------------------


def run_chapter8_readers(ch08: Path, n_test: int) -> tuple[dict[str, float], dict[str, float]]:
    half = numbers(run_script(ch08 / "half_float_network.py"))
    assert half["rounded"] == 1  # every parameter now holds a float16 value
    assert abs(half["float16"] - half["float64"]) <= 0.01
    wrong = numbers(run_script(ch08 / "misclassified_mnist.py"))
    assert wrong["wrong"] == round((1 - wrong["accuracy"]) * n_test)
    assert wrong["shown"] == min(20, wrong["wrong"]) and wrong["pairs_wrong"] == 1
    assert wrong["accuracy"] == half["float64"]  # the same digits, the same net
    return half, wrong


def test_chapter8_scripts_read_the_books_params_file(tmp_path):
    """half_float_network.py and misclassified_mnist.py on a net saved with save_params (untrained: quick)."""
    from zerograd.book.deep_convnet import DeepConvNet

    ch08 = copy_tree(tmp_path / "book_scripts") / "ch08"
    np.random.seed(0)
    DeepConvNet().save_params(str(ch08 / "deep_convnet_params.pkl"))
    run_chapter8_readers(ch08, n_test=200)
    assert run_script(ch08 / "awesome_net.py") == {}  # the book's file is a comment only; so is this one


@pytest.mark.slow
def test_chapter8_train_deepnet_save_and_reload(tree):
    """train_deepnet.py's path scaled down: 300 Adam steps of DeepConvNet on 2,000 digits (about 25 s of one
    core), save_params, load_params into a fresh net: the same predictions; then the chapter's readers."""
    values = numbers(run_script(tree / "ch08" / "train_deepnet.py"))
    assert values["steps"] == 300
    assert values["loss_last"] < 0.8 * values["loss_first"]  # means of 20 steps, dropout on
    assert values["test"] > 0.8  # measured: 0.916 on 500 test digits
    assert values["reloaded_max_diff"] == 0 and values["reloaded_test"] == values["test"]
    half, _ = run_chapter8_readers(tree / "ch08", n_test=200)
    assert half["float64"] > 0.8  # the first 200 of the same test digits


def test_chapter8_full_run_script_on_fashion_mnist(tmp_path):
    """scripts/book_deepnet_full.py, whose full run the README quotes, scaled to 3 steps: the book's settings,
    a result.json that says what ran, parameters the book's load_params reads back, and no overwrite."""
    if not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.skip("/usr/share/datasets/fashion-mnist is absent (apt-get install dataset-fashion-mnist)")
    script = Path(__file__).resolve().parents[1] / "scripts" / "book_deepnet_full.py"
    out = tmp_path / "run"
    args = [sys.executable, str(script), "--out", str(out), "--epochs", "1", "--train-samples", "300"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "result.json").read_text())
    assert (result["dataset"], result["train_images"], result["test_images"]) == ("fashion-mnist", 300, 10000)
    assert result["iterations"] == 3  # the book's Trainer: int(epochs * max(N / 100, 1)) batches of 100
    log = (out / "train.log").read_text()
    assert log.count("train loss:") == 3 and "=== epoch:1, train acc:" in log  # the Trainer's own lines
    assert "Final Test Accuracy" in log

    from zerograd.book.deep_convnet import DeepConvNet
    from zerograd.datasets import load_dataset

    net = DeepConvNet()
    net.load_params(str(out / "deep_convnet_params.pkl"))
    ds = load_dataset("fashion-mnist", flatten=False, download=False, progress=False)
    assert net.accuracy(ds.x_test, ds.t_test) == result["test_acc"]  # the saved net is the one measured

    again = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert again.returncode == 2 and "nothing was overwritten" in again.stderr
    assert again.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("flag,value", [("--epochs", "0"), ("--train-samples", "-3")])
def test_chapter8_full_run_script_refuses_a_bad_count(tmp_path, flag, value):
    script = Path(__file__).resolve().parents[1] / "scripts" / "book_deepnet_full.py"
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(out), flag, value], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and f"{flag} must be a positive integer, got {value}" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()  # refused before anything was made


# -- the list in docs/book-scripts.md ----------------------------------------------------------------------------


def test_every_repository_script_has_a_book_style_script_and_a_test():
    rows = re.findall(
        r"^\| `(ch0\d/\w+\.py)` \| `(tests/book_scripts/ch0\d/\w+\.py)` \| `(\w+)` \|", DOC.read_text(), flags=re.M
    )
    by_chapter = {
        ch: sum(1 for book, _, _ in rows if book.startswith(ch))
        for ch in ("ch03", "ch04", "ch05", "ch06", "ch07", "ch08")
    }
    assert by_chapter == {"ch03": 7, "ch04": 6, "ch05": 6, "ch06": 9, "ch07": 5, "ch08": 5}
    tests_dir = Path(__file__).resolve().parent
    sources = "".join(p.read_text() for p in tests_dir.glob("test_book*.py"))
    root = tests_dir.parent
    for book, ours, test in rows:
        assert Path(book).name == Path(ours).name and (root / ours).is_file(), ours
        assert f"def {test}(" in sources, test
    ours_on_disk = {str(p.relative_to(root)) for p in SCRIPTS.glob("ch0*/*.py")}
    assert ours_on_disk == {ours for _, ours, _ in rows}
