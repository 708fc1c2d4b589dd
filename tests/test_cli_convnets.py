"""`zerograd train --net convnet|deepconvnet`, then evaluate, predict, resume and `zerograd filters` on its output."""

import subprocess
import sys

import numpy as np
import pytest

from zerograd import checkpoint
from zerograd.cli import main
from zerograd.nets import TwoLayerNet


def zerograd(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "zerograd", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def small_digits(tmp_path_factory):
    """1,000 training and 300 test digits of the bundled sample as a user's .npz (uint8 images (N, 28, 28))."""
    from zerograd.datasets import DatasetError, load_dataset

    try:
        ds = load_dataset("mnist-sample", download=False, normalize=False, flatten=False)
    except DatasetError as err:
        pytest.fail(f"the bundled MNIST sample is missing: {err}")
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(
        path, x_train=ds.x_train[:1000, 0], t_train=ds.t_train[:1000], x_test=ds.x_test[:300, 0], t_test=ds.t_test[:300]
    )
    return path


def test_train_convnet_evaluate_predict_resume_and_filters(small_digits, tmp_path):
    from PIL import Image

    out = tmp_path / "run"
    result = zerograd("train", "--net", "convnet", "--dataset", small_digits, "--epochs", "2", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "SimpleConvNet(input_dim=(1, 28, 28)" in result.stdout and "Adam(lr=0.001" in result.stdout
    assert result.stdout.count("\nepoch ") == 2
    saved = checkpoint.load(out / "checkpoint.npz")
    assert type(saved.net).__name__ == "SimpleConvNet" and saved.net.dtype == np.float32 and saved.epoch == 2
    assert saved.history["test_acc"][-1] > 0.4  # it learns: 20 Adam steps on 1,000 digits (chance: 0.1)

    # the same run in two pieces, with --resume, gives the same weights bit for bit
    first = tmp_path / "first"
    assert (
        zerograd("train", "--net", "convnet", "--dataset", small_digits, "--epochs", "1", "--out", first).returncode
        == 0
    )
    epoch1 = tmp_path / "epoch1.npz"
    epoch1.write_bytes((first / "checkpoint.npz").read_bytes())
    result = zerograd("train", "--resume", first / "checkpoint.npz", "--epochs", "2", "--out", first)
    assert result.returncode == 0, result.stderr
    resumed = checkpoint.load(first / "checkpoint.npz").net.params
    for key, value in saved.net.params.items():
        np.testing.assert_array_equal(resumed[key], value, err_msg=key)

    result = zerograd("evaluate", out / "checkpoint.npz")
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("accuracy ")[1].split()[0])  # printed to 4 decimals
    assert accuracy == pytest.approx(saved.history["test_acc"][-1], abs=1e-4)

    digits = np.load(small_digits)
    Image.fromarray(digits["x_test"][0]).save(tmp_path / "digit.png")
    result = zerograd("predict", out / "checkpoint.npz", tmp_path / "digit.png")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{tmp_path / 'digit.png'}: ")

    result = zerograd("filters", epoch1, out / "checkpoint.npz", "--out", tmp_path / "filters.png")
    assert result.returncode == 0, result.stderr
    assert "30 filters of 5x5 (1 channel(s)) before and after" in result.stdout
    with Image.open(tmp_path / "filters.png") as img:
        assert img.format == "PNG" and img.size[0] > 2 * img.size[1]  # two grids side by side


def test_train_deepconvnet_runs(small_digits, tmp_path):
    result = zerograd(
        "train",
        "--net",
        "deepconvnet",
        "--dataset",
        small_digits,
        "--epochs",
        "1",
        "--batch-size",
        "250",
        "--out",
        tmp_path / "deep",
        "--no-plot",
    )
    assert result.returncode == 0, result.stderr
    net = checkpoint.load(tmp_path / "deep" / "checkpoint.npz").net
    assert type(net).__name__ == "DeepConvNet" and len(net.params) == 16


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["filters"], "no run with a checkpoint.npz in runs/"),
        (["filters", "--help"], None),
        (["filters", "a.npz", "b.npz", "c.npz"], "give one or two checkpoints (before and after), got 3"),
        (["filters", "missing.npz"], "missing.npz: no such checkpoint file"),
        (["filters", "mlp.npz"], "mlp.npz: TwoLayerNet has no convolution layer, so no filters to draw"),
        (
            ["train", "--net", "convnet", "--hidden", "100,100", "--dataset", "mnist-sample"],
            "--hidden for --net convnet is one width",
        ),
        (
            ["train", "--net", "deepconvnet", "--init", "0.01", "--dataset", "mnist-sample"],
            "--init: DeepConvNet uses He initialisation",
        ),
    ],
)
def test_mistakes_give_one_line(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    checkpoint.save(tmp_path / "mlp.npz", TwoLayerNet(784, 10, 10, rng=0))
    if message is None:  # argparse: --help (exit 0)
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == (0 if "--help" in argv else 2)
        assert "usage: zerograd filters" in capsys.readouterr()[0 if "--help" in argv else 1]
        return
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err, err


def test_the_cli_convnet_starts_from_he_while_the_library_and_the_book_keep_001():
    # issue 20 item 4: with the book's 0.01 the README's 5-epoch Fashion-MNIST command stops at 0.8917
    from zerograd.book.simple_convnet import SimpleConvNet as BookSimpleConvNet
    from zerograd.convnets import SimpleConvNet
    from zerograd.run import RunSpec

    cli = RunSpec(net="convnet").build_net((1, 28, 28), 10)
    assert cli.weight_init_std == "he"
    assert RunSpec(net="convnet", init=0.01).build_net((1, 28, 28), 10).weight_init_std == 0.01
    assert SimpleConvNet(rng=0).weight_init_std == 0.01
    assert BookSimpleConvNet().weight_init_std == 0.01


# -- issue 22 item 15: images keep the (C, H, W) they were stored with ------------------------------------------


def colour_images(path, shape, n=24):
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (n, *shape), dtype=np.uint8),
        t_train=np.arange(n) % 3,
        x_test=rng.integers(0, 256, (9, *shape), dtype=np.uint8),
        t_test=np.arange(9) % 3,
    )
    return path


@pytest.mark.parametrize("shape", [(3, 16, 12), (3, 28, 28), (20, 20), (1, 10, 14)])
def test_convnet_trains_on_the_image_shape_the_data_has(shape, tmp_path, monkeypatch, capsys):
    """(N, 3, 16, 12) once trained silently as 1x24x24 (its 576 values are a square number), and (N, 3, 28, 28) was
    refused with "give it as (N, C, H, W)", the shape it had."""
    monkeypatch.chdir(tmp_path)
    data = colour_images(tmp_path / "colour.npz", shape)
    argv = ["train", "--net", "convnet", "--dataset", str(data), "--epochs", "1", "--batch-size", "8", "--no-plot"]
    assert main([*argv, "--out", "run"]) == 0, capsys.readouterr().err
    want = shape if len(shape) == 3 else (1, *shape)
    assert f"SimpleConvNet(input_dim={want}" in capsys.readouterr().out
    assert checkpoint.load(tmp_path / "run" / "checkpoint.npz").net.input_dim == want


def test_flat_data_that_is_not_a_square_image_is_refused_naming_its_shape(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data = colour_images(tmp_path / "flat.npz", (300,))
    assert main(["train", "--net", "convnet", "--dataset", str(data), "--epochs", "1", "--out", "run"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "stored as (300,)" in err and "(N, C, H, W)" in err, err


def test_resume_refuses_images_of_another_shape_with_as_many_values(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    first = colour_images(tmp_path / "a.npz", (3, 16, 12))
    other = colour_images(tmp_path / "b.npz", (1, 24, 24))  # 576 values too
    assert (
        main(
            [
                "train",
                "--net",
                "convnet",
                "--dataset",
                str(first),
                "--epochs",
                "1",
                "--batch-size",
                "8",
                "--no-plot",
                "--out",
                "run",
            ]
        )
        == 0
    )
    capsys.readouterr()
    code = main(
        [
            "train",
            "--resume",
            "run/checkpoint.npz",
            "--dataset",
            str(other),
            "--epochs",
            "2",
            "--no-plot",
            "--out",
            "run2",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "(3, 16, 12)" in err and "(1, 24, 24)" in err, err


def test_datasets_keep_their_image_shape_when_flattened(tmp_path):
    from zerograd.datasets import load_dataset, load_npz

    assert load_dataset("mnist-sample", download=False).image_shape == (1, 28, 28)
    assert load_npz(colour_images(tmp_path / "c.npz", (3, 16, 12))).image_shape == (3, 16, 12)
    assert load_npz(colour_images(tmp_path / "f.npz", (300,))).image_shape is None


def test_byte_string_class_names_are_text(tmp_path):
    from zerograd.datasets import DatasetError, load_npz

    path = colour_images(tmp_path / "c.npz", (4, 4))
    with np.load(path) as z:
        arrays = dict(z)
    np.savez(path, **arrays, classes=np.array([b"cat", b"dog", "é".encode()]))
    assert load_npz(path).classes == ("cat", "dog", "é")
    np.savez(path, **arrays, classes=np.array([b"cat", b"dog", b"\xff"]))
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_npz(path)
