"""The CLI under misuse and failure (issue 10): every case ends in one line on stderr with exit code 2 (usage) or
1 (met while working) — never a traceback — and nothing of the user's is overwritten or left half-written."""

import errno
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

from zerograd import checkpoint
from zerograd.cli import COMMANDS, main
from zerograd.commands import common
from zerograd.io import fileio

TRAIN = ["train", "--dataset", "mnist-sample", "--no-plot"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("ZEROGRAD_OFFLINE", "1")


def one_line_error(capsys, code, result, *needles):
    err = capsys.readouterr().err
    assert result == code, err
    assert err.strip().count("\n") == 0 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def train_run(tmp_path, folder="A", *extra):
    assert main([*TRAIN, "--epochs", "1", "--out", str(tmp_path / folder), *extra]) == 0
    return tmp_path / folder / "checkpoint.npz"


# -- defect 1: resume writes where the run was ---------------------------------------------------------------


def test_resume_defaults_its_output_to_the_checkpoints_folder(tmp_path, capsys):
    ckpt = train_run(tmp_path)
    assert main(["train", "--resume", str(ckpt), "--epochs", "2", "--no-plot"]) == 0
    assert checkpoint.load(ckpt).epoch == 2
    assert not (tmp_path / "runs").exists()  # no new run folder: the resumed run writes where it was


def test_the_printed_resume_command_names_the_output_folder(tmp_path, capsys, monkeypatch):
    from zerograd.train import Trainer

    train_epoch = Trainer.train_epoch

    def interrupted_in_epoch_2(self, progress=None):
        if self.epoch == 1:
            raise KeyboardInterrupt
        return train_epoch(self, progress)

    monkeypatch.setattr(Trainer, "train_epoch", interrupted_in_epoch_2)
    out = tmp_path / "A"
    assert main([*TRAIN, "--epochs", "5", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert f"resume with: zerograd train --resume {out / 'checkpoint.npz'} --out {out}" in err
    assert "Traceback" not in err


# -- defect 2: another run's files are not replaced; one run per folder ---------------------------------------


def test_a_new_run_refuses_a_folder_holding_another_run(tmp_path, capsys):
    ckpt = train_run(tmp_path)
    before = ckpt.read_bytes()
    capsys.readouterr()
    code = main([*TRAIN, "--epochs", "1", "--seed", "9", "--out", str(tmp_path / "A")])
    one_line_error(capsys, 2, code, f"{tmp_path / 'A'} already holds another run", "epoch 1", "--overwrite")
    assert ckpt.read_bytes() == before
    assert main([*TRAIN, "--epochs", "1", "--seed", "9", "--out", str(tmp_path / "A"), "--overwrite"]) == 0
    assert ckpt.read_bytes() != before


def test_resuming_into_another_runs_folder_is_refused(tmp_path, capsys):
    a, b = train_run(tmp_path, "A"), train_run(tmp_path, "B")
    before = b.read_bytes()
    capsys.readouterr()
    code = main(["train", "--resume", str(a), "--epochs", "2", "--out", str(b.parent)])
    one_line_error(capsys, 2, code, "already holds another run")
    assert b.read_bytes() == before


def test_a_second_concurrent_run_is_refused_and_a_stale_lock_is_taken_over(tmp_path, capsys):
    out = tmp_path / "A"
    out.mkdir()
    # another process holding the folder's lock (zerograd.io.runlock: a kernel lock, dropped when its process dies)
    hold = (
        "import sys, time; from zerograd.io.runlock import RunLock; RunLock(sys.argv[1]).acquire(); "
        "print(1, flush=True); time.sleep(60)"
    )
    other = subprocess.Popen([sys.executable, "-c", hold, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "1"
        code = main([*TRAIN, "--epochs", "1", "--out", str(out)])
        one_line_error(capsys, 2, code, "in use by another zerograd run", f"pid {other.pid}")
        assert not (out / "checkpoint.npz").exists()
    finally:
        other.kill()
        other.wait()
    # the other run is gone: its lock file remains, free, and is taken over, then removed at the end
    assert main([*TRAIN, "--epochs", "1", "--out", str(out)]) == 0
    assert (out / "checkpoint.npz").is_file() and not (out / common.LOCK_NAME).exists()


# -- defect 3: --out problems before any work; a full disk mid-run ---------------------------------------------


def out_cases(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "run" / "checkpoint.npz").mkdir(parents=True)
    return {
        "an existing file": (tmp_path / "file", "is a file, not a folder"),
        "a path under a file": (tmp_path / "file" / "sub", "is a file, so nothing can be created under it"),
        "checkpoint.npz a folder": (tmp_path / "run", "checkpoint.npz is a folder"),
    }


@pytest.mark.parametrize("case", ["an existing file", "a path under a file", "checkpoint.npz a folder"])
def test_train_checks_out_before_loading_anything(tmp_path, capsys, case):
    out, message = out_cases(tmp_path)[case]
    code = main([*TRAIN, "--epochs", "1", "--out", str(out)])
    one_line_error(capsys, 2, code, message)
    assert "dataset:" not in capsys.readouterr().out


@pytest.mark.parametrize("failure", ["read-only", "full"])
def test_unwritable_or_full_out_is_refused_before_any_work(tmp_path, capsys, monkeypatch, failure):
    if failure == "read-only":

        def mkstemp(*args, **kwargs):
            raise OSError(errno.EROFS, "Read-only file system")

        monkeypatch.setattr(common.tempfile, "mkstemp", mkstemp)
        message = "Read-only file system"
    else:
        monkeypatch.setattr(common.shutil, "disk_usage", lambda p: type("U", (), {"free": 1000})())
        message = "is full"
    code = main([*TRAIN, "--epochs", "1", "--out", str(tmp_path / "A")])
    one_line_error(capsys, 2, code, message)
    assert not (tmp_path / "A").exists()


def test_evaluate_and_graph_check_their_outputs_first(tmp_path, capsys):
    ckpt = train_run(tmp_path)
    (tmp_path / "file").write_text("x")
    capsys.readouterr()
    one_line_error(capsys, 2, main(["evaluate", str(ckpt), "--out", str(tmp_path / "file")]), "is a file")
    (tmp_path / "A" / "confusion.png").mkdir()
    one_line_error(capsys, 2, main(["evaluate", str(ckpt)]), "confusion.png is a folder")
    one_line_error(capsys, 2, main(["graph", "apple", "--out", str(tmp_path / "file" / "g.dot")]), "is a file")
    (tmp_path / "g.dot").mkdir()
    one_line_error(capsys, 2, main(["graph", "apple", "--out", str(tmp_path / "g.dot")]), "is a folder")
    one_line_error(capsys, 2, main(["graph", "apple", "--out", str(tmp_path / "nowhere" / "g.dot")]), "does not exist")


def test_a_disk_filling_mid_run_keeps_the_last_checkpoint(tmp_path, capsys, monkeypatch):
    out = tmp_path / "A"
    real_fsync, saves = os.fsync, []

    def fsync(fd):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".checkpoint.npz."):
            saves.append(fd)
            if len(saves) == 2:  # the checkpoint of epoch 2 finds the disk full
                raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    code = main([*TRAIN, "--epochs", "3", "--out", str(out)])
    one_line_error(
        capsys, 1, code, f"cannot write {out / 'checkpoint.npz'}: the disk is full", "the checkpoint of epoch 1"
    )
    assert checkpoint.load(out / "checkpoint.npz").epoch == 1
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "metrics.csv"]  # no temporary file, no lock


# -- defect 5: labels far out of range ---------------------------------------------------------------------------


def test_a_label_far_out_of_range_is_named(tmp_path, capsys):
    rng = np.random.default_rng(0)
    t = rng.integers(0, 10, 40)
    t[7] = 10_000_000
    np.savez(tmp_path / "d.npz", x_train=rng.random((40, 4)), t_train=t, x_test=rng.random((5, 4)), t_test=np.arange(5))
    code = main(["train", "--dataset", "d.npz", "--epochs", "1", "--out", "A"])
    one_line_error(capsys, 2, code, "t_train[7] is label 10000000", "--max-classes")
    assert not (tmp_path / "A").exists()
    # a class-name list is a class count too
    np.savez(
        tmp_path / "d.npz",
        x_train=rng.random((40, 4)),
        t_train=t % 10,
        x_test=rng.random((5, 4)),
        t_test=np.arange(5),
        classes=np.array(["c"] * 5000),
    )
    one_line_error(capsys, 2, main(["train", "--dataset", "d.npz", "--out", "A"]), "5000 names")
    assert (
        main(
            [
                "train",
                "--dataset",
                "d.npz",
                "--epochs",
                "1",
                "--out",
                "A",
                "--no-plot",
                "--hidden",
                "3",
                "--max-classes",
                "5000",
            ]
        )
        == 0
    )
    assert checkpoint.load(tmp_path / "A" / "checkpoint.npz").net.output_size == 5000


# -- defect 6: predict reads every image mode right ---------------------------------------------------------------


def test_16_bit_greyscale_is_scaled_not_clipped(tmp_path):
    from PIL import Image

    from zerograd.commands.predict import image_to_input

    a = np.zeros((28, 28), dtype=np.uint16)
    a[5:23, 12:16] = 30000  # ink at 46% of full scale
    Image.fromarray(a).save(tmp_path / "grey16.png")
    with Image.open(tmp_path / "grey16.png") as img:
        assert img.mode.startswith("I")
    x = image_to_input(tmp_path / "grey16.png").reshape(28, 28)
    assert x[10, 13] == pytest.approx(30000 / 65535, abs=1e-3) and x[0, 0] == 0


@pytest.mark.parametrize("ink", [0, 255])
def test_transparent_background_is_composited_behind_the_ink(tmp_path, capsys, ink):
    from PIL import Image

    from zerograd.commands.predict import image_to_input

    rgba = np.zeros((56, 56, 4), dtype=np.uint8)  # fully transparent, RGB 0 (what most editors save)
    rgba[10:46, 24:32] = (ink, ink, ink, 255)  # an opaque upright bar: a "1"
    Image.fromarray(rgba, "RGBA").save(tmp_path / "one.png")
    x = image_to_input(tmp_path / "one.png").reshape(28, 28)
    assert x.max() > 0.9 and x[0].max() == 0 and x[:, 0].max() == 0  # light ink on black, as MNIST
    assert "blank" not in capsys.readouterr().err


def test_a_blank_image_is_warned_about(tmp_path, capsys):
    from PIL import Image

    from zerograd.commands.predict import image_to_input

    Image.fromarray(np.zeros((30, 30, 4), dtype=np.uint8), "RGBA").save(tmp_path / "empty.png")
    image_to_input(tmp_path / "empty.png")
    err = capsys.readouterr().err
    assert "empty.png is blank" in err and err.count("\n") == 1


def test_oversized_images_are_refused_in_one_line(tmp_path, capsys, monkeypatch):
    from PIL import Image

    ckpt = checkpoint.save(tmp_path / "c.npz", __import__("zerograd").TwoLayerNet(784, 10, 10, rng=0))
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8)).save(tmp_path / "big.png")
    Image.fromarray(np.zeros((100, 100), dtype=np.uint8)).save(tmp_path / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 40×40 is over it (Pillow warns), 100×100 over 2× (raises)
    one_line_error(capsys, 2, main(["predict", str(ckpt), str(tmp_path / "big.png")]), "40×40 pixels")
    err = one_line_error(capsys, 2, main(["predict", str(ckpt), str(tmp_path / "huge.png")]), "too large")
    assert "DecompressionBomb" not in err


# -- defect 7: a compressed bomb in --root ---------------------------------------------------------------------


def test_a_gz_bomb_is_refused_without_inflating_it(tmp_path):
    import tracemalloc

    from zerograd.datasets import ChecksumError, load_mnist

    root = tmp_path / "root"
    root.mkdir()
    # a valid IDX header for 400,000 images of 28×28 (314 MB of zeros) in a ~300 kB .gz
    zeros = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b"\x00\x00\x08\x03" + b"".join(n.to_bytes(4, "big") for n in (400_000, 28, 28)))]
    parts += [packer.compress(zeros) for _ in range(400_000 * 784 >> 20)]
    parts.append(packer.flush())
    (root / "train-images-idx3-ubyte.gz").write_bytes(b"".join(parts))
    tracemalloc.start()
    try:
        with pytest.raises(ChecksumError, match="more data than expected"):
            load_mnist(root, download=False, allow_sample_fallback=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 120 * 2**20, peak  # the real file is 47 MB decompressed; the bomb would be 314 MB


# -- defect 8: the small ones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--seed", "-1"],
        ["gradcheck", "--seed", "-1"],
        ["compare", "init", "--seed", "-1"],
        ["graph", "net", "--seed", "-1"],
        ["train", "--seed", str(2**32)],
    ],
)
def test_seed_out_of_range(argv, capsys):
    one_line_error(capsys, 2, main(argv), "--seed must be an integer in 0..4294967295")


@pytest.mark.parametrize(
    "flag,value", [("--weight-decay", "inf"), ("--weight-decay", "nan"), ("--init", "inf"), ("--init", "-1")]
)
def test_weight_decay_and_init_must_be_finite_and_not_negative(flag, value, capsys):
    one_line_error(capsys, 2, main([*TRAIN, flag, value]), f"{flag} must be a finite number >= 0")


def test_npy_given_as_checkpoint(tmp_path, capsys):
    np.save(tmp_path / "w.npy", np.zeros(3))
    one_line_error(capsys, 2, main(["evaluate", str(tmp_path / "w.npy")]), "not a zerograd checkpoint")


def test_ctrl_c_while_loading_data_or_drawing(tmp_path, capsys, monkeypatch):
    import zerograd.datasets
    import zerograd.plot

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(zerograd.datasets, "load_dataset", interrupt)
        one_line_error(capsys, 130, main([*TRAIN, "--out", "A"]), "interrupted")
    monkeypatch.setattr(zerograd.plot, "save_figure", interrupt)
    code = main(["train", "--dataset", "mnist-sample", "--epochs", "1", "--out", "B"])
    one_line_error(capsys, 130, code, "interrupted while drawing curves.png", "checkpoint of epoch 1")
    assert checkpoint.load(tmp_path / "B" / "checkpoint.npz").epoch == 1


def test_resume_refuses_flags_it_would_ignore(tmp_path, capsys):
    ckpt = train_run(tmp_path)
    capsys.readouterr()
    code = main(["train", "--resume", str(ckpt), "--lr", "0.5", "--optimizer", "adam", "--epochs", "2"])
    one_line_error(capsys, 2, code, "--optimizer, --lr cannot change it")
    assert checkpoint.load(ckpt).epoch == 1


def test_a_loss_running_away_is_warned_about(tmp_path, capsys):
    assert main([*TRAIN, "--epochs", "1", "--optimizer", "adam", "--lr", "1e6", "--out", "A"]) == 0
    assert "warning: the loss" in capsys.readouterr().err
    assert main([*TRAIN, "--epochs", "1", "--out", "B"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_dataset_path_is_stored_resolved_and_messages_read_right(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "d.npz",
        x_train=rng.random((40, 4)),
        t_train=rng.integers(0, 3, 40),
        x_test=rng.random((6, 4)),
        t_test=np.arange(6) % 3,
    )
    assert main(["train", "--dataset", "d.npz", "--epochs", "1", "--out", "A", "--no-plot"]) == 0
    assert "after 1 epoch (" in capsys.readouterr().out
    ckpt = checkpoint.load(tmp_path / "A" / "checkpoint.npz")
    assert ckpt.metadata["dataset_spec"] == str(tmp_path / "d.npz")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["evaluate", str(tmp_path / "A" / "checkpoint.npz")]) == 0


def test_offline_fallback_names_the_cli_flag(tmp_path, capsys):
    assert (
        main(
            [
                "gradcheck",
                "--dataset",
                "mnist",
                "--root",
                str(tmp_path),
                "--hidden",
                "4",
                "--samples",
                "1",
                "--mode",
                "fast",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "pass --root" in err and "root=" not in err


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_each_default_once(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text and "(default: False)" not in text
    for option in text.split(" --")[1:]:
        assert option.count("default") <= 1, option


@pytest.mark.parametrize(
    "variable,value,needle",
    [
        ("ZEROGRAD_THREADS", "many", "ZEROGRAD_THREADS must be a whole number of threads >= 1, got 'many'"),
        ("ZEROGRAD_THREADS", "0", "ZEROGRAD_THREADS must be a whole number of threads >= 1, got '0'"),
        (
            "ZEROGRAD_MALLOC",
            "off",
            "ZEROGRAD_MALLOC must be 'system' (leave the C allocator as it is) or unset, got 'off'",
        ),
    ],
)
def test_a_bad_tuning_variable_is_one_line_before_any_work(tmp_path, capsys, monkeypatch, variable, value, needle):
    from zerograd.engine import parallel

    monkeypatch.setattr(parallel, "_threads", None)  # read the environment again, as a fresh process would
    monkeypatch.setenv(variable, value)
    one_line_error(capsys, 2, main([*TRAIN, "--epochs", "1", "--out", str(tmp_path / "run")]), needle)
    assert not (tmp_path / "run").exists()  # refused before anything was written
