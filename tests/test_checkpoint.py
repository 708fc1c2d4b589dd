"""Checkpoints: round trip of net, optimizer, epoch, RNG and history; clear errors for bad files; atomic writes."""

import io
import json
import zipfile

import numpy as np
import pytest

from zerograd import checkpoint
from zerograd.checkpoint import CheckpointError
from zerograd.nets import MultiLayerNet, TwoLayerNet
from zerograd.optim import Adam


def trained_parts():
    net = MultiLayerNet(6, [5, 4], 3, activation="sigmoid", weight_decay_lambda=0.01, dtype=np.float32, rng=1)
    x = np.random.default_rng(0).random((8, 6), dtype=np.float32)
    t = np.arange(8) % 3
    opt = Adam(lr=0.01)
    for _ in range(3):
        opt.update(net.params, net.gradient(x, t))
    return net, opt, x


def test_round_trip_of_everything(tmp_path):
    net, opt, x = trained_parts()
    rng = np.random.default_rng(5)
    rng.random(3)
    history = {"loss": [1.5, 1.25, float("nan")], "train_acc": [0.5], "iterations_per_epoch": 3}
    path = checkpoint.save(
        tmp_path / "sub" / "c.npz",
        net,
        opt,
        epoch=4,
        rng_state=rng.bit_generator.state,
        history=history,
        train_config={"lr": 0.01},
        metadata={"dataset": "mnist"},
    )
    ckpt = checkpoint.load(path)
    assert type(ckpt.net) is MultiLayerNet and ckpt.net.config() == net.config()
    assert ckpt.net.dtype == np.float32
    for key, value in net.params.items():
        np.testing.assert_array_equal(ckpt.net.params[key], value)
        assert ckpt.net.params[key].dtype == np.float32
    np.testing.assert_array_equal(ckpt.net.predict(x), net.predict(x))  # the layers use the loaded arrays
    assert ckpt.epoch == 4 and ckpt.train_config == {"lr": 0.01} and ckpt.metadata == {"dataset": "mnist"}
    assert ckpt.history["loss"][:2] == [1.5, 1.25] and np.isnan(ckpt.history["loss"][2])
    assert ckpt.history["iterations_per_epoch"] == 3
    restored = np.random.default_rng()
    restored.bit_generator.state = ckpt.rng_state
    assert restored.random() == rng.random()
    assert type(ckpt.optimizer) is Adam and ckpt.optimizer.steps == 3
    for slot, buffers in opt.state.items():
        for key, value in buffers.items():
            np.testing.assert_array_equal(ckpt.optimizer.state[slot][key], value)


def test_a_net_alone(tmp_path):
    net = TwoLayerNet(4, 3, 2, rng=0)
    ckpt = checkpoint.load(checkpoint.save(tmp_path / "net.npz", net))
    assert type(ckpt.net) is TwoLayerNet and ckpt.optimizer is None and ckpt.rng_state is None
    np.testing.assert_array_equal(ckpt.net.params["W1"], net.params["W1"])


def test_the_file_holds_no_pickles_and_a_json_header(tmp_path):
    net, opt, _ = trained_parts()
    path = checkpoint.save(tmp_path / "c.npz", net, opt)
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes())
        assert header["format"] == "zerograd-checkpoint"
        assert {"param/W1", "optim/m/W1", "optim/v/b3"} <= set(archive.files)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        checkpoint.load(tmp_path / "nope.npz")


def test_not_an_npz(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("epoch,loss\n1,0.5\n")
    with pytest.raises(CheckpointError, match="not a zerograd checkpoint \\(not an .npz archive\\)"):
        checkpoint.load(path)


def test_npz_without_header(tmp_path):
    np.savez(tmp_path / "other.npz", W1=np.ones(3))
    with pytest.raises(CheckpointError, match="without a header"):
        checkpoint.load(tmp_path / "other.npz")


def test_foreign_header(tmp_path):
    np.savez(tmp_path / "h.npz", header=np.frombuffer(b'{"format": "something-else"}', dtype=np.uint8))
    with pytest.raises(CheckpointError, match="header format is 'something-else'"):
        checkpoint.load(tmp_path / "h.npz")


def test_pickled_object_arrays_are_refused_not_loaded(tmp_path):
    np.savez(tmp_path / "p.npz", header=np.array([{"format": "zerograd-checkpoint"}], dtype=object))
    with pytest.raises(CheckpointError):
        checkpoint.load(tmp_path / "p.npz")


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_file(tmp_path, keep):
    net, opt, _ = trained_parts()
    path = checkpoint.save(tmp_path / "c.npz", net, opt)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match="damaged|truncated|not an .npz"):
        checkpoint.load(path)


def rewrite(path, change):
    """Rewrite the archive at ``path`` with ``change(arrays)`` applied (arrays include the header bytes)."""
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    change(arrays)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())


def test_array_shape_that_disagrees_with_the_header(tmp_path):
    path = checkpoint.save(tmp_path / "c.npz", TwoLayerNet(4, 3, 2, rng=0))
    rewrite(path, lambda a: a.__setitem__("param/W1", np.ones((4, 2))))
    with pytest.raises(CheckpointError, match=r"'param/W1' is <f8 \(4, 2\) but the header says <f8 \(4, 3\)"):
        checkpoint.load(path)


def test_header_that_disagrees_with_the_net_config(tmp_path):
    path = checkpoint.save(tmp_path / "c.npz", TwoLayerNet(4, 3, 2, rng=0))

    def grow_hidden(arrays):
        header = json.loads(arrays["header"].tobytes())
        header["net"]["hidden_size"] = 7
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)

    rewrite(path, grow_hidden)
    with pytest.raises(CheckpointError, match=r"parameter 'W1' is float64 \(4, 3\) but the TwoLayerNet needs"):
        checkpoint.load(path)


def test_array_listed_but_missing(tmp_path):
    path = checkpoint.save(tmp_path / "c.npz", TwoLayerNet(4, 3, 2, rng=0))
    rewrite(path, lambda a: a.pop("param/b2"))
    with pytest.raises(CheckpointError, match="lists param/b2 but the archive lacks it"):
        checkpoint.load(path)


def test_a_failed_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    good = TwoLayerNet(4, 3, 2, rng=0)
    path = checkpoint.save(tmp_path / "c.npz", good)
    before = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, TwoLayerNet(4, 3, 2, rng=1))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temporary file left behind
    assert zipfile.is_zipfile(path)
