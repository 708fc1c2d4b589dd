"""No output replaces an input or another run's file (issue 22 item 1), and train's interruptions say what happened
(issue 22 item 18): every command checks its outputs before any work through ``commands.outputs.Outputs``."""

import os
import re
import warnings

import numpy as np
import pytest
from conftest import one_line_error

from zerograd import checkpoint
from zerograd.cli import main
from zerograd.convnets import SimpleConvNet
from zerograd.nets import TwoLayerNet

TRAIN = ["train", "--dataset", "mnist-sample"]


pytestmark = pytest.mark.usefixtures("cli_in_tmp")


@pytest.fixture
def conv(tmp_path):
    path = tmp_path / "V" / "checkpoint.npz"
    checkpoint.save(path, SimpleConvNet(input_dim=(1, 28, 28), hidden_size=10, rng=0))
    return path


# -- an output that is an input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "{ckpt}", "--out", "{ckpt}"],
        ["export", "{ckpt}", "--format", "torch", "--out", "{ckpt}"],
        ["export", "{ckpt}", "--out", "{ckpt}", "--overwrite"],  # --overwrite replaces other files, never an input
        ["export", "{ckpt}", "--from-torch", "state.pt", "--out", "state.pt"],
        ["filters", "{ckpt}", "--out", "{ckpt}"],
        ["filters", "{ckpt}", "--out", "{ckpt}", "--overwrite"],
        ["compare", "optimizers", "--iterations", "1", "--out", "{ckpt}", "--overwrite"],  # another run's file
        ["graph", "apple", "--out", "{ckpt_dir}/curves.png", "--overwrite"],
        ["compare", "optimizers", "--dataset", "data.npz", "--out", "data.npz", "--overwrite"],
        ["evaluate", "{ckpt}", "--dataset", "{ckpt_dir}/confusion.png", "--overwrite"],
    ],
)
def test_an_output_that_is_an_input_or_a_runs_file_is_refused_before_any_work(argv, conv, tmp_path, capsys):
    (tmp_path / "state.pt").write_bytes(b"a state_dict")
    (tmp_path / "data.npz").write_bytes(b"a dataset")
    (conv.parent / "confusion.png").write_bytes(b"a dataset, oddly named")
    (conv.parent / "curves.png").write_bytes(b"the run's curves")
    before = {
        p: p.read_bytes() for p in (conv, conv.parent / "curves.png", tmp_path / "state.pt", tmp_path / "data.npz")
    }
    argv = [a.format(ckpt=conv, ckpt_dir=conv.parent) for a in argv]
    one_line_error(capsys, main(argv), "choose another")
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_a_link_to_an_input_is_the_input(link, conv, tmp_path, capsys):
    out = tmp_path / "other.onnx"
    (os.symlink if link == "symlink" else os.link)(conv, out)
    before = conv.read_bytes()
    one_line_error(capsys, main(["export", str(conv), "--out", str(out), "--overwrite"]), "is the input")
    one_line_error(capsys, main(["filters", str(conv), "--out", str(out), "--overwrite"]), "is the input")
    assert conv.read_bytes() == before


def test_train_refuses_an_out_folder_whose_files_are_its_dataset(tmp_path, capsys):
    from zerograd.datasets import load_mnist_sample

    ds = load_mnist_sample()
    (tmp_path / "A").mkdir()
    np.savez(
        tmp_path / "A" / "metrics.csv",
        x_train=ds.x_train[:100],
        t_train=ds.t_train[:100],
        x_test=ds.x_test[:10],
        t_test=ds.t_test[:10],
    )
    os.rename(tmp_path / "A" / "metrics.csv.npz", tmp_path / "A" / "data.npz")
    os.symlink(tmp_path / "A" / "data.npz", tmp_path / "A" / "metrics.csv")
    one_line_error(
        capsys,
        main(
            [
                "train",
                "--dataset",
                str(tmp_path / "A" / "metrics.csv"),
                "--out",
                str(tmp_path / "A"),
                "--overwrite",
                "--epochs",
                "1",
            ]
        ),
        "is the input",
    )


# -- an existing file -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "{ckpt}", "--out", "mine.onnx"],
        ["filters", "{ckpt}", "--out", "mine.onnx"],
        ["compare", "optimizers", "--iterations", "1", "--out", "mine.onnx"],
        ["graph", "apple", "--out", "mine.dot"],
        ["graph", "apple", "--html", "mine.onnx"],
        ["sample-image", "3", "--out", "mine.onnx"],
    ],
)
def test_an_existing_file_is_replaced_only_with_overwrite(argv, conv, tmp_path, capsys):
    argv = [a.format(ckpt=conv) for a in argv]
    target = tmp_path / argv[argv.index("--out" if "--out" in argv else "--html") + 1]
    target.write_bytes(b"someone's file")
    one_line_error(capsys, main(argv), "already exists", "--overwrite")
    assert target.read_bytes() == b"someone's file"


def test_evaluate_twice_needs_overwrite_for_its_confusion_png(conv, tmp_path, capsys):
    checkpoint.save(conv, TwoLayerNet(784, 10, 10, rng=0), metadata={"dataset_spec": "mnist-sample"})
    assert main(["evaluate", str(conv)]) == 0
    png = (conv.parent / "confusion.png").read_bytes()
    capsys.readouterr()
    one_line_error(capsys, main(["evaluate", str(conv)]), "confusion.png already exists", "--overwrite")
    assert (conv.parent / "confusion.png").read_bytes() == png
    assert main(["evaluate", str(conv), "--overwrite"]) == 0


def test_filters_overwrite_replaces_its_own_earlier_picture(conv, tmp_path, capsys):
    assert main(["filters", str(conv), "--out", "f.png"]) == 0
    assert main(["filters", str(conv), "--out", "f.png", "--overwrite"]) == 0


# -- train: interrupted, replaced, --root ------------------------------------------------------------------


def interrupt(monkeypatch, *, in_epoch=None, while_evaluating=False, while_plotting=False):
    from zerograd import plot
    from zerograd.train import Trainer

    train_epoch, evaluate = Trainer.train_epoch, Trainer.evaluate

    def epoch(self, progress=None):
        if in_epoch is not None and self.epoch + 1 == in_epoch and not while_evaluating:
            raise KeyboardInterrupt
        return train_epoch(self, progress)

    def evaluating(self, x, t):  # the test accuracy after the epoch's updates (the training accuracy is their own)
        if while_evaluating and self.epoch == in_epoch:  # the epoch's updates are done: it counts as one
            raise KeyboardInterrupt
        return evaluate(self, x, t)

    monkeypatch.setattr(Trainer, "train_epoch", epoch)
    monkeypatch.setattr(Trainer, "evaluate", evaluating)
    if while_plotting:

        def ctrl_c(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(plot, "save_figure", ctrl_c)


@pytest.mark.parametrize("while_evaluating", [False, True])
def test_ctrl_c_in_the_first_epoch_says_epoch_1_and_leaves_nothing(while_evaluating, tmp_path, capsys, monkeypatch):
    interrupt(monkeypatch, in_epoch=1, while_evaluating=while_evaluating)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "No artists with labels found" would be one
        assert main([*TRAIN, "--epochs", "3", "--out", "A"]) == 130
    err = capsys.readouterr().err
    assert "interrupted in epoch 1, before its checkpoint was written: nothing saved" in err, err
    assert "epoch 2" not in err and "Warning" not in err
    assert not (tmp_path / "A").exists()
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZEROGRAD_OFFLINE", "1")
    assert main([*TRAIN, "--epochs", "1", "--out", "A"]) == 0  # --out is free to use again


def test_ctrl_c_again_while_drawing_still_prints_the_resume_line(tmp_path, capsys, monkeypatch):
    interrupt(monkeypatch, in_epoch=2, while_plotting=True)
    assert main([*TRAIN, "--epochs", "3", "--out", "A"]) == 130
    err = capsys.readouterr().err
    assert "curves.png not drawn" in err
    assert (
        f"resume with: zerograd train --resume {tmp_path.joinpath('A', 'checkpoint.npz').relative_to(tmp_path)}" in err
    ), err


def test_overwrite_no_plot_removes_the_replaced_runs_curves(tmp_path, capsys):
    assert main([*TRAIN, "--epochs", "1", "--out", "A"]) == 0
    assert (tmp_path / "A" / "curves.png").exists()
    assert main([*TRAIN, "--epochs", "1", "--out", "A", "--overwrite", "--no-plot", "--seed", "3"]) == 0
    assert not (tmp_path / "A" / "curves.png").exists()


def test_a_file_as_root_is_refused(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    for dataset in ("fashion-mnist", "mnist"):
        one_line_error(capsys, main(["train", "--dataset", dataset, "--root", "afile"]), "--root afile: is a file")
    assert not (tmp_path / "runs").exists()


def test_epoch_and_final_lines_give_training_and_wall_time(tmp_path, capsys):
    assert main([*TRAIN, "--epochs", "2", "--no-plot"]) == 0
    out = capsys.readouterr().out
    epochs = re.findall(r"epoch +\d/2 .* ([\d.]+) s training, ([\d.]+) s since start", out)
    assert len(epochs) == 2, out
    assert all(float(wall) >= float(train) for train, wall in epochs)
    final = re.search(r"final test accuracy .*\(([\d.]+) s of training, ([\d.]+) s in all\)", out)
    assert final and float(final.group(2)) >= float(final.group(1)) >= 0, out
