"""Sizes from the command line are checked against what the machine can hold before anything is allocated (issue 22
item 10): one line naming the option, exit 2, never a MemoryError traceback. Each command runs under a 3 GiB
address-space limit, so a check that is missing fails fast instead of filling the machine."""

import resource
import subprocess
import sys

import numpy as np
import pytest

from zerograd import checkpoint

LIMIT = 3 * 2**30
TUNE = ["--dataset", "mnist-sample", "--trials", "1", "--epochs", "1", "--out", "t"]


def run_limited(*argv, cwd):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))

    return subprocess.run(
        [sys.executable, "-m", "zerograd", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def conv_checkpoint(tmp_path_factory):
    convnets = pytest.importorskip("zerograd.convnets")
    folder = tmp_path_factory.mktemp("conv")
    return checkpoint.save(folder / "conv.npz", convnets.SimpleConvNet(rng=0))


@pytest.mark.parametrize(
    "argv, option",
    [
        (["train", "--hidden", "1000000000", "--epochs", "1", "--dataset", "mnist-sample", "--out", "run"], "--hidden"),
        (
            ["train", "--hidden", "100,1000000000", "--epochs", "1", "--dataset", "mnist-sample", "--out", "run"],
            "--hidden",
        ),
        (["gradcheck", "--hidden", "1000000000"], "--hidden"),
        (["gradcheck", "--hidden", "100000", "--samples", "1"], "--hidden"),
        (["graph", "net", "--input-size", "100000000", "--out", "net.svg"], "--input-size"),
        (["graph", "net", "--classes", "100000000", "--out", "net.svg"], "--classes"),
        (["graph", "net", "--batch-size", "100000000", "--out", "net.svg"], "--batch-size"),
        (["graph", "net", "--hidden", "100000000", "--out", "net.svg"], "--hidden"),
        (["tune", "--hidden", "100000000", *TUNE], "--hidden"),
        (["tune", "--hidden", "50/100000000", *TUNE], "--hidden"),
    ],
)
def test_a_size_the_machine_cannot_hold_is_one_line_naming_the_option(argv, option, tmp_path):
    if argv[0] == "tune":
        pytest.importorskip("optuna")
    result = run_limited(*argv, cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"zerograd {argv[0]}: error: {option} "), result.stderr[-2000:]
    assert len(result.stderr.strip().splitlines()) == 1 or argv[0] == "tune"


def test_filters_columns_beyond_the_filters_is_one_line(conv_checkpoint, tmp_path):
    result = run_limited("filters", str(conv_checkpoint), "--columns", "1000000000", "--out", "f.png", cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip() == (
        "zerograd filters: error: --columns 1000000000 is more than the 30 filters to draw; give at most 30"
    )
    assert not (tmp_path / "f.png").exists()


def test_sizes_that_fit_still_run(tmp_path):
    result = run_limited("graph", "net", "--hidden", "3000", "--out", "net.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    result = run_limited("gradcheck", "--hidden", "20", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_estimate_and_the_option_it_blames():
    from zerograd.engine import capacity
    from zerograd.engine.capacity import CapacityError, check_mlp, format_bytes, mlp_bytes

    # the chapter's TwoLayerNet (784 → 50 → 10), float64, batch 100, worked by hand:
    # parameters 784*50 + 50 + 50*10 + 10 = 39,760, four copies; activations 100 * (50 + 10), three copies;
    # the batch 100 * 784
    assert mlp_bytes(784, [50], 10, batch_size=100, itemsize=8) == 8 * (4 * 39_760 + 3 * 6_000 + 78_400)
    sizes = {"input_size": 784, "hidden": [50], "classes": 10, "batch_size": 10**9}
    flags = {"hidden": "--hidden", "batch_size": "--batch-size"}
    with pytest.raises(CapacityError, match=r"^--batch-size 1000000000: .* lower --batch-size$"):
        capacity.check_fits(lambda **v: mlp_bytes(**v, itemsize=8), sizes, flags, "this net", available=2**30)
    check_mlp({**sizes, "batch_size": 100}, flags, 8)  # fits: nothing raised
    assert format_bytes(1536) == "1.5 KiB" and format_bytes(6.27e12) == "5.7 TiB"


# -- issue 22 item 18: one line, not a traceback or "Broken pipe" ---------------------------------------------------


def test_a_formula_with_a_byte_that_is_not_utf8_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable.encode(), b"-m", b"zerograd", b"graph", b"expr", b"--expr", b"x*\xff"],
        capture_output=True,
        timeout=60,
        cwd=tmp_path,
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2 and "Traceback" not in err, err
    assert err.strip().count("\n") == 0 and "not a character" in err, err


def test_a_net_of_3000_layers_gets_a_title_graphviz_can_read():
    from zerograd.graph import trace_net
    from zerograd.nets import MultiLayerNet

    net = MultiLayerNet(20, [2] * 3000, 3, weight_init_std=0.1)
    x = np.zeros((2, 20))
    title = trace_net(net, x, np.array([0, 1])).title
    assert len(title) < 400 and title.startswith("MultiLayerNet(20 → 2 → 2") and "→ 3" in title


def test_dot_refusing_a_graph_is_one_line_not_a_broken_pipe(tmp_path):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot is not installed")
    import graphviz

    from zerograd.graph import drawing

    g = graphviz.Digraph("g")
    g.attr(label="x" * 20_000)  # over dot's 16,384-byte limit for a quoted string
    g.node("a")
    with pytest.raises(drawing.GraphvizFailedError) as err:
        drawing.render(g, tmp_path / "g.svg")
    assert "\n" not in str(err.value) and "`dot` could not draw" in str(err.value) and "syntax error" in str(err.value)
    assert not (tmp_path / "g.svg").exists()
