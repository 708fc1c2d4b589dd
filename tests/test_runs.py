"""Run folders (issue 20 item 3): each ``zerograd train`` without ``--out`` gets a fresh numbered folder, made
atomically; commands that read a run take a folder or a checkpoint and default to the latest run, saying which."""

import multiprocessing
import os

import numpy as np
import pytest
from conftest import one_line_error

from zerograd import checkpoint
from zerograd.cli import main
from zerograd.nets import TwoLayerNet
from zerograd.runs import RunFolderError, checkpoint_of, latest_run, new_run_folder, run_number

TRAIN = ["train", "--dataset", "mnist-sample", "--epochs", "1", "--no-plot"]


pytestmark = pytest.mark.usefixtures("cli_in_tmp")


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- the module ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("train", 1),
        ("train2", 2),
        ("train10", 10),
        ("train1", None),
        ("train0", None),
        ("train07", None),
        ("trainx", None),
        ("val", None),
    ],
)
def test_run_numbers_follow_ultralytics(name, number):
    assert run_number(name) == number


def test_new_run_folders_count_up_past_the_highest_and_skip_taken_names(tmp_path):
    assert [new_run_folder().name for _ in range(3)] == ["train", "train2", "train3"]
    (tmp_path / "runs" / "train9").mkdir()
    (tmp_path / "runs" / "train10").write_text("a file with the next name")  # taken, though not a run
    assert new_run_folder().name == "train11"


def _make_one(folder, barrier, results):
    os.chdir(folder)
    barrier.wait()
    results.put(str(new_run_folder()))


def test_runs_started_together_never_share_a_folder(tmp_path):
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    procs = [ctx.Process(target=_make_one, args=(tmp_path, barrier, results)) for _ in range(8)]
    for p in procs:
        p.start()
    names = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert len(set(names)) == 8, names
    assert len(list((tmp_path / "runs").iterdir())) == 8


def test_the_latest_run_is_the_highest_number_with_a_checkpoint(tmp_path):
    for name in ("train", "train2", "train10", "train11"):
        (tmp_path / "runs" / name).mkdir(parents=True)
    for name in ("train", "train2", "train10"):
        (tmp_path / "runs" / name / "checkpoint.npz").write_bytes(b"x")
    # train11 has no checkpoint yet (running, or died before its first epoch); 10 > 2 as numbers, not as text
    assert latest_run() == tmp_path.joinpath("runs", "train10").relative_to(tmp_path)


def test_no_run_and_a_folder_without_a_checkpoint_are_named(tmp_path):
    with pytest.raises(RunFolderError, match="no run with a checkpoint.npz in runs/"):
        latest_run()
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFolderError, match="empty: a run folder, but it holds no checkpoint.npz"):
        checkpoint_of(tmp_path / "empty")


# -- the CLI: the target --------------------------------------------------------------------------


def test_ten_trains_in_a_row_keep_ten_runs_and_evaluate_takes_the_tenth(tmp_path, capsys):
    kept = {}
    for i in range(10):
        assert main([*TRAIN, "--seed", str(i)]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        folder = tmp_path / "runs" / ("train" if i == 0 else f"train{i + 1}")
        assert f"run folder: {folder.relative_to(tmp_path)}" in out.splitlines()[0]  # named at the start
        assert f"wrote {folder.relative_to(tmp_path) / 'checkpoint.npz'}" in out  # and at the end
        kept[folder] = (folder / "checkpoint.npz").stat().st_mtime_ns
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(p.name for p in kept)
    for folder, mtime in kept.items():  # none replaced by a later run
        assert (folder / "checkpoint.npz").stat().st_mtime_ns == mtime
        assert checkpoint.load(folder / "checkpoint.npz").train_config["seed"] == int(folder.name[5:] or 1) - 1

    assert main(["evaluate", "--no-plot"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"zerograd evaluate: using the latest run, {os.path.join('runs', 'train10')}"
    assert any(line.startswith(os.path.join("runs", "train10", "checkpoint.npz")) for line in out), out


def test_resume_alone_continues_the_latest_run(tmp_path, capsys):
    assert main(TRAIN) == 0
    assert main(TRAIN) == 0
    capsys.readouterr()
    assert main(["train", "--resume", "--epochs", "2", "--no-plot"]) == 0
    assert "using the latest run, runs/train2" in capsys.readouterr().out
    assert checkpoint.load(tmp_path / "runs" / "train2" / "checkpoint.npz").epoch == 2
    assert checkpoint.load(tmp_path / "runs" / "train" / "checkpoint.npz").epoch == 1
    assert not (tmp_path / "runs" / "train3").exists()


def test_a_run_folder_works_wherever_a_checkpoint_does(tmp_path, capsys):
    assert main(TRAIN) == 0
    capsys.readouterr()
    assert main(["evaluate", "runs/train", "--no-plot"]) == 0
    assert main(["predict", "runs/train", "--sample", "0"]) == 0
    assert "latest run" not in capsys.readouterr().out  # a run was given


def test_an_explicit_out_holding_another_run_is_still_refused(tmp_path, capsys):
    assert main([*TRAIN, "--out", "mine"]) == 0
    before = (tmp_path / "mine" / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    one_line_error(capsys, main([*TRAIN, "--out", "mine"]), "mine already holds another run", "--overwrite")
    assert (tmp_path / "mine" / "checkpoint.npz").read_bytes() == before
    assert not (tmp_path / "runs").exists()


# -- bad input: one line, exit 2, nothing written -----------------------------------------------------------


def test_a_run_folder_without_a_checkpoint_is_one_line(tmp_path, capsys):
    (tmp_path / "runs" / "train").mkdir(parents=True)
    before = files_under(tmp_path)
    for argv in (
        ["evaluate", "runs/train"],
        ["predict", "runs/train", "--sample", "0"],
        ["filters", "runs/train"],
        ["export", "runs/train"],
        ["train", "--resume", "runs/train"],
    ):
        one_line_error(capsys, main(argv), "runs/train: a run folder, but it holds no checkpoint.npz")
    one_line_error(capsys, main(["evaluate"]), "no run with a checkpoint.npz in runs/")
    assert files_under(tmp_path) == before


def test_filters_of_a_two_layer_net_is_one_line_and_writes_nothing(tmp_path, capsys):
    run = tmp_path / "runs" / "train"
    checkpoint.save(run / "checkpoint.npz", TwoLayerNet(784, 10, 10, rng=0))
    before = files_under(tmp_path)
    one_line_error(capsys, main(["filters"]), "TwoLayerNet has no convolution layer", "zerograd train --net convnet")
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("n", ["2000", "-1", "99999999999"])
def test_sample_out_of_range_is_one_line_naming_the_range(tmp_path, capsys, n):
    assert main(TRAIN) == 0
    before = files_under(tmp_path)
    capsys.readouterr()
    one_line_error(
        capsys, main(["predict", "--sample", n]), f"--sample {n}: mnist-sample has 2000 test images", "0..1999"
    )
    assert files_under(tmp_path) == before


def test_predict_needs_an_image_or_a_sample(tmp_path, capsys):
    assert main(TRAIN) == 0
    capsys.readouterr()
    one_line_error(capsys, main(["predict"]), "give IMAGE files", "--sample N")


# -- predict --sample and the shipped images ----------------------------------------------------------------


def test_predict_sample_shows_the_test_image_and_its_label(tmp_path, capsys):
    assert main(TRAIN) == 0
    capsys.readouterr()
    assert main(["predict", "--sample", "0", "--sample", "7"]) == 0
    out, err = capsys.readouterr()
    from zerograd.datasets import load_mnist_sample

    labels = load_mnist_sample().t_test
    assert f"mnist-sample test image 0 (label {labels[0]}): " in out
    assert f"mnist-sample test image 7 (label {labels[7]}): " in out
    assert "using the latest run, runs/train" in out and err == ""


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_every_shipped_image_is_the_datasets_own_test_image(dataset):
    from PIL import Image

    from zerograd.datasets import load_dataset, load_mnist_sample
    from zerograd.datasets.examples import example_png

    if dataset == "mnist":
        ds = load_mnist_sample(dtype=np.float64)
    else:
        try:
            ds = load_dataset("fashion-mnist", download=False, dtype=np.float64)
        except Exception as err:  # noqa: BLE001
            pytest.skip(f"Debian's dataset-fashion-mnist is not installed here: {err}")
    import io

    for label in range(10):
        pixels = np.asarray(Image.open(io.BytesIO(example_png(dataset, label))))
        first = ds.x_test[np.flatnonzero(ds.t_test == label)[0]].reshape(28, 28)
        assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
        np.testing.assert_array_equal(pixels, np.rint(first * 255))


def test_a_shipped_digit_is_predicted_in_either_polarity(tmp_path, capsys):
    from PIL import Image, ImageOps

    assert main(["train", "--dataset", "mnist-sample", "--epochs", "3", "--no-plot"]) == 0
    assert main(["sample-image", "7", "--out", "seven.png"]) == 0
    Image.fromarray(255 - np.asarray(Image.open("seven.png"))).save("seven-dark-on-light.png")
    ImageOps.invert(Image.open("seven.png").convert("RGB")).save("seven.jpg", quality=95)
    capsys.readouterr()
    assert main(["predict", "seven.png", "seven-dark-on-light.png", "seven.jpg"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "zerograd predict: using the latest run, runs/train"
    assert [line.split(":")[1].split()[0] for line in lines[1:]] == ["7", "7", "7"], lines


def test_sample_image_names_fashion_items_and_refuses_what_is_not_there(tmp_path, capsys):
    assert main(["sample-image", "sneaker", "--dataset", "fashion-mnist"]) == 0
    assert (tmp_path / "sneaker.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    one_line_error(capsys, main(["sample-image", "12"]), "mnist has no class '12'")
    one_line_error(
        capsys,
        main(["sample-image", "sneaker", "--dataset", "fashion-mnist"]),
        "sneaker.png already exists",
        "--overwrite",
    )


def test_filters_of_the_latest_run_land_in_its_folder(tmp_path, capsys):
    from zerograd.convnets import SimpleConvNet

    checkpoint.save(tmp_path / "runs" / "train" / "checkpoint.npz", SimpleConvNet(hidden_size=10, rng=0))
    assert main(["filters"]) == 0
    assert (tmp_path / "runs" / "train" / "filters.png").read_bytes()[:4] == b"\x89PNG"
    assert "wrote runs/train/filters.png" in capsys.readouterr().out


def test_serve_checkpoint_alone_takes_the_latest_run(tmp_path, capsys):
    one_line_error(capsys, main(["serve", "--checkpoint"]), "no run with a checkpoint.npz in runs/")
    (tmp_path / "runs" / "train").mkdir(parents=True)
    one_line_error(capsys, main(["serve", "--checkpoint", "runs/train"]), "holds no checkpoint.npz")
