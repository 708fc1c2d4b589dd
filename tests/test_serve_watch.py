"""zerograd.serve.watch: a zerograd train run's folder read by `zerograd serve --watch` (no browser needed here;
the page is driven live in test_serve_pages.py)."""

import subprocess
import sys

import numpy as np
import pytest

from zerograd.serve.watch import MAX_TILES, RunWatcher, WatchError, first_layer_images


def test_metrics_are_read_row_by_row_and_a_broken_row_is_left_out(tmp_path):
    watcher = RunWatcher(tmp_path)
    assert watcher.snapshot()["epochs"] == []  # nothing yet: the run has not finished an epoch
    (tmp_path / "metrics.csv").write_text(
        "epoch,loss,train_acc,test_acc,seconds\n1,0.5,0.8,0.79,1.5\n2,0.25,0.9,,1.4\n3,0.2\n", encoding="utf-8"
    )
    epochs = watcher.snapshot()["epochs"]
    assert epochs == [
        {"epoch": 1, "loss": 0.5, "train_acc": 0.8, "test_acc": 0.79, "seconds": 1.5},
        {"epoch": 2, "loss": 0.25, "train_acc": 0.9, "test_acc": None, "seconds": 1.4},
    ]
    assert isinstance(epochs[0]["epoch"], int)


def test_a_damaged_checkpoint_is_named_and_the_last_good_weights_stay(tmp_path):
    from zerograd.checkpoint import save
    from zerograd.nets import TwoLayerNet

    save(tmp_path / "checkpoint.npz", TwoLayerNet(784, 20, 10, rng=0), epoch=3)
    watcher = RunWatcher(tmp_path)
    first = watcher.snapshot()
    assert first["checkpoint_epoch"] == 3 and first["weights"]["kind"] == "tiles" and first["error"] == ""
    (tmp_path / "checkpoint.npz").write_bytes(b"not a zip")
    second = watcher.snapshot()
    assert "not a zerograd checkpoint" in second["error"] and "\n" not in second["error"]
    assert second["weights"] == first["weights"]


def test_an_mlps_first_weights_are_one_28x28_tile_per_hidden_unit():
    from zerograd.nets import TwoLayerNet

    net = TwoLayerNet(784, 100, 10, rng=0)
    images = first_layer_images(net)
    grey = np.array(images["images"])
    assert images["kind"] == "tiles" and images["shape"] == [784, 100] and grey.shape == (MAX_TILES, 28, 28)
    w = net.params["W1"][:, 5].reshape(28, 28)  # the weights into hidden unit 5, as the image of its inputs
    np.testing.assert_allclose(grey[5], np.round(0.5 + 0.5 * w / np.abs(w).max(), 3))


def test_first_layer_images_of_a_conv_net_are_its_filters():
    from zerograd.convnets import SimpleConvNet

    net = SimpleConvNet(
        input_dim=(1, 28, 28),
        conv_param={"filter_num": 6, "filter_size": 5, "pad": 0, "stride": 1},
        hidden_size=10,
        output_size=10,
        rng=0,
    )
    images = first_layer_images(net)
    assert images["kind"] == "filters" and images["shape"] == [6, 1, 5, 5]
    grey = np.array(images["images"])
    assert grey.shape == (6, 5, 5) and grey.min() >= 0 and grey.max() <= 1
    w = net.params[images["parameter"]][:, 0]
    # the largest |w| of each filter is black or white; zero is mid-grey
    np.testing.assert_allclose(np.abs(grey - 0.5).reshape(6, -1).max(axis=1), 0.5, atol=1e-3)
    clear = np.abs(grey - 0.5) > 0.002  # (greys are rounded to 3 decimals: a weight near 0 may round to 0.5)
    assert clear.mean() > 0.9 and np.all((grey > 0.5)[clear] == (w > 0)[clear])  # one channel: the filter itself


def test_no_run_watched_is_one_line_from_the_api_and_a_bad_folder_is_exit_2(tmp_path):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from zerograd.serve.app import create_app
    from zerograd.serve.digits import quick_model

    with TestClient(create_app(digit_model=quick_model(epochs=1))) as client:
        response = client.get("/api/watch")
        assert response.status_code == 400 and "zerograd serve --watch RUN_DIR" in response.json()["error"]
    (tmp_path / "metrics.csv").touch()
    with pytest.raises(WatchError, match="not a folder"):
        RunWatcher(tmp_path / "metrics.csv")
    result = subprocess.run(
        [sys.executable, "-m", "zerograd", "serve", "--watch", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"zerograd serve: error: --watch {tmp_path / 'nowhere'}: no such folder (give the --out folder of a "
        "zerograd train run)"
    ]
