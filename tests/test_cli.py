"""The `zerograd` command line: help everywhere, one-line errors with exit code 2, and a run end to end."""

import signal
import subprocess
import sys

import numpy as np
import pytest

from zerograd import checkpoint
from zerograd.cli import COMMANDS, main

MY_COMMANDS = ("train", "evaluate", "predict", "gradcheck")


def zerograd(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "zerograd", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def sample_or_skip():
    from zerograd.datasets import DatasetError, load_dataset

    try:
        return load_dataset("mnist-sample", download=False)
    except DatasetError as err:
        pytest.skip(f"the bundled MNIST sample is missing: {err}")


@pytest.mark.parametrize("command", MY_COMMANDS)
def test_every_subcommand_has_help(command, capsys):
    assert command in COMMANDS
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert f"usage: zerograd {command}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "--dataset", "imagenet"], "imagenet"),
        (["train", "--lr", "-0.1"], "--lr must be a positive number, got -0.1"),
        (["train", "--epochs", "0"], "--epochs must be a positive integer"),
        (["train", "--hidden", "50,x"], "--hidden must be comma-separated positive integers"),
        (["train", "--eval-samples", "many"], "--eval-samples must be a number of samples or 'all', got 'many'"),
        (["train", "--eval-samples", "0"], "--eval-samples must be a positive integer, got 0"),
        (["train", "--eval-every", "0"], "--eval-every must be a positive integer, got 0"),
        (["train", "--resume", "missing.npz"], "missing.npz: no such checkpoint file"),
        (["evaluate", "missing.npz"], "missing.npz: no such checkpoint file"),
        (["predict", "missing.npz", "digit.png"], "missing.npz: no such checkpoint file"),
        (["gradcheck", "--samples", "0"], "--samples must be a positive integer"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_code_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"zerograd {argv[0]}: error: ") and message in err


def test_unreadable_image_and_non_checkpoint(tmp_path, capsys):
    from zerograd.nets import TwoLayerNet

    ckpt = checkpoint.save(tmp_path / "c.npz", TwoLayerNet(784, 10, 10, rng=0))
    (tmp_path / "digit.png").write_bytes(b"not really a png")
    assert main(["predict", str(ckpt), str(tmp_path / "digit.png")]) == 2
    assert "digit.png: cannot read this image" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "digit.png")]) == 2
    assert "not a zerograd checkpoint" in capsys.readouterr().err


def test_errors_in_a_subprocess_have_no_traceback():
    result = zerograd("train", "--dataset", "no-such-dataset")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0, result.stderr


def test_train_evaluate_predict_end_to_end(tmp_path):
    from PIL import Image

    ds = sample_or_skip()
    out = tmp_path / "run"
    result = zerograd("train", "--dataset", "mnist-sample", "--epochs", "3", "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\nepoch ") == 3 and "epoch   3/3" in result.stdout
    for name in ("checkpoint.npz", "metrics.csv", "curves.png"):
        assert (out / name).is_file(), name
    with Image.open(out / "curves.png") as img:
        img.verify()
        assert img.format == "PNG" and img.size[0] > 300
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0] == "epoch,loss,train_acc,test_acc,seconds,train_acc_on" and len(rows) == 4
    assert all(row.endswith(",running") for row in rows[1:])  # what train_acc measured, named
    saved = checkpoint.load(out / "checkpoint.npz")
    assert saved.epoch == 3 and saved.net.dtype == np.float32

    result = zerograd("evaluate", out / "checkpoint.npz")
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("accuracy ")[1].split()[0])
    assert accuracy == pytest.approx(saved.history["test_acc"][-1])
    assert (out / "confusion.png").is_file()

    # PNGs of test images the net classifies confidently: each as it is, and 3x larger with dark ink on white
    probs = saved.net.predict(ds.x_test[:200])
    margin = np.sort(probs, axis=1)[:, -1] - np.sort(probs, axis=1)[:, -2]
    chosen = [i for i in np.argsort(margin)[::-1] if np.argmax(probs[i]) == ds.t_test[i]][:3]
    small, big = [], []
    for i in chosen:
        pixels = (ds.x_test[i].reshape(28, 28) * 255).round().astype(np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"test{i}.png")
        Image.fromarray(255 - pixels).resize((84, 84), Image.Resampling.BILINEAR).save(tmp_path / f"big{i}.jpg")
        small.append(tmp_path / f"test{i}.png")
        big.append(tmp_path / f"big{i}.jpg")
    classes = saved.metadata["classes"]
    for paths, options in ((small, ()), (big, ("--no-center",))):
        result = zerograd("predict", out / "checkpoint.npz", *paths, *options)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()
        assert len(lines) == len(paths)
        for line, path in zip(lines, paths, strict=True):
            i = int(path.stem.removeprefix("test").removeprefix("big"))
            assert line.startswith(f"{path}: {classes[ds.t_test[i]]}  ("), line
            assert line.count(",") == 2  # the top-3 probabilities


def test_a_large_off_centre_photo_is_framed_like_mnist(tmp_path):
    from PIL import Image

    from zerograd.commands.predict import image_to_input

    canvas = np.full((120, 90), 240, dtype=np.uint8)  # light paper
    canvas[10:70, 50:70] = 20  # a dark upright bar ("1"), far from the centre
    Image.fromarray(canvas).save(tmp_path / "one.png")
    x = image_to_input(tmp_path / "one.png").reshape(28, 28)
    assert x.max() > 0.9 and x[0].max() == 0 and x[:, 0].max() == 0  # inverted: light ink on black
    rows, cols = np.flatnonzero(x.max(axis=1) > 0.2), np.flatnonzero(x.max(axis=0) > 0.2)
    assert rows[-1] - rows[0] + 1 == 20 and cols[-1] - cols[0] + 1 <= 8  # the long side fits 20 pixels
    ys, xs = np.indices(x.shape)
    assert abs((ys * x).sum() / x.sum() - 14) < 1 and abs((xs * x).sum() / x.sum() - 14) < 1  # centred by mass


def test_ctrl_c_saves_the_last_epoch_and_resume_continues(tmp_path):
    sample_or_skip()
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "zerograd",
            "train",
            "--dataset",
            "mnist-sample",
            "--epochs",
            "500",
            "--out",
            str(out),
            "--no-plot",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stdout:
            if line.startswith("epoch   2/"):
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert f"resume with: zerograd train --resume {out / 'checkpoint.npz'} --out {out}" in stderr
    saved = checkpoint.load(out / "checkpoint.npz")
    assert saved.epoch >= 2 and len(saved.history["epoch_loss"]) == saved.epoch
    assert len(saved.history["loss"]) == saved.epoch * saved.history["iterations_per_epoch"]

    result = zerograd(
        "train", "--resume", out / "checkpoint.npz", "--epochs", saved.epoch + 1, "--out", out, "--no-plot"
    )
    assert result.returncode == 0, result.stderr
    assert f"epoch {saved.epoch + 1:>3}/{saved.epoch + 1}" in result.stdout
    assert checkpoint.load(out / "checkpoint.npz").epoch == saved.epoch + 1


def test_gradcheck_command_passes_on_real_samples():
    sample_or_skip()
    result = zerograd("gradcheck", "--layers")
    assert result.returncode == 0, result.stdout + result.stderr
    for key in ("W1", "b1", "W2", "b2"):
        line = next(row for row in result.stdout.splitlines() if row.startswith(f"{key}:"))
        assert float(line.split(":")[1].split()[0]) < 1e-9 and line.endswith("PASS")
    assert "SoftmaxWithLoss" in result.stdout and "FAIL" not in result.stdout
    assert "BatchNormalization train" in result.stdout and "Dropout train" in result.stdout


def test_every_built_in_layer_check_is_tight():
    from zerograd.commands.gradcheck import check_layers

    reports = check_layers()
    # relative to each gradient's own scale: a PASS through atol alone (a vanishing gradient) would not count
    assert {name: r.max_rel_error for name, r in reports.items() if r.max_rel_error > 1e-8} == {}


@pytest.mark.parametrize("mode", ["loop", "fast"])
def test_gradcheck_command_modes(mode):
    sample_or_skip()
    result = zerograd("gradcheck", "--mode", mode, "--hidden", "8")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASS") == 5  # W1 b1 W2 b2 and the net


def test_train_a_batchnorm_dropout_net_then_evaluate_and_predict_it(tmp_path):
    from PIL import Image

    ds = sample_or_skip()
    out = tmp_path / "bn"
    result = zerograd(
        "train",
        "--dataset",
        "mnist-sample",
        "--batchnorm",
        "--dropout",
        "0.2",
        "--hidden",
        "100,100,100",
        "--epochs",
        "2",
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr
    saved = checkpoint.load(out / "checkpoint.npz")
    assert type(saved.net).__name__ == "MultiLayerNetExtend"
    assert saved.net.use_batchnorm and saved.net.dropout_ration == 0.2
    assert list(saved.net.buffers) == [f"running_{s}{i}" for i in (1, 2, 3) for s in ("mean", "var")]
    assert saved.history["test_acc"][-1] > 0.85  # measured 0.91 after 2 epochs
    result = zerograd("evaluate", out / "checkpoint.npz")
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.split("accuracy ")[1].split()[0]) == pytest.approx(saved.history["test_acc"][-1])
    pixels = (ds.x_test[0].reshape(28, 28) * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "digit.png")
    result = zerograd("predict", out / "checkpoint.npz", tmp_path / "digit.png")
    assert result.returncode == 0 and result.stdout.startswith(f"{tmp_path / 'digit.png'}: "), result.stderr
    bad = zerograd("train", "--dropout", "1.5", "--out", tmp_path / "x")
    assert bad.returncode == 2 and "--dropout must be in [0, 1), got 1.5" in bad.stderr
