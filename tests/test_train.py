"""Trainer: batches by index, history, callbacks, the NaN guard, bit-for-bit resume; the book's Trainer."""

import numpy as np
import pytest

from zerograd import checkpoint
from zerograd.nets import MultiLayerNet, MultiLayerNetExtend, TwoLayerNet
from zerograd.train import DivergedError, History, TrainConfig, Trainer


def blobs(n=230, d=8, classes=3, seed=0):
    """Three Gaussian clusters, float32: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, classes, n)
    centers = rng.standard_normal((classes, d)) * 3
    x = (centers[t] + rng.standard_normal((n, d))).astype(np.float32)
    return x, t


class SpyNet:
    """Records the sample ids (feature 0) of every batch it is given."""

    def __init__(self):
        self.params = {"w": np.zeros(1)}
        self.batches = []

    def gradient(self, x, t):
        self.batches.append(x[:, 0].astype(int).tolist())
        return {"w": np.zeros(1)}

    def loss(self, x, t):
        return 1.0

    def accuracy(self, x, t, batch_size=None):
        return 0.5


def ids(n):
    return np.arange(n, dtype=np.float64)[:, None], np.zeros(n, dtype=int)


def test_epoch_sampling_uses_every_sample_once_with_a_short_last_batch():
    spy = SpyNet()
    x, t = ids(250)
    Trainer(spy, TrainConfig(epochs=2, batch_size=100), x, t).fit()
    assert [len(b) for b in spy.batches] == [100, 100, 50] * 2
    for epoch in (spy.batches[:3], spy.batches[3:]):
        assert sorted(sum(epoch, [])) == list(range(250))
    assert spy.batches[:3] != spy.batches[3:]  # a fresh permutation each epoch


def test_book_sampling_draws_with_replacement():
    spy = SpyNet()
    x, t = ids(250)
    Trainer(spy, TrainConfig(epochs=2, batch_size=100, sampling="book"), x, t).fit()
    assert [len(b) for b in spy.batches] == [100] * 6  # ceil(250 / 100) iterations per epoch
    assert any(len(set(b)) < len(b) for b in spy.batches)  # repeats happen with replacement


def test_history_and_callbacks():
    x, t = blobs()
    seen = []
    net = TwoLayerNet(8, 16, 3, weight_init_std="he", dtype=np.float32, rng=0)
    trainer = Trainer(
        net,
        TrainConfig(epochs=4, batch_size=32, lr=0.1),
        x[:180],
        t[:180],
        x[180:],
        t[180:],
        callbacks=[lambda tr: seen.append(tr.epoch)],
    )
    h = trainer.fit()
    assert seen == [1, 2, 3, 4]
    assert h.iterations_per_epoch == 6 and len(h.loss) == 24
    assert len(h.epoch_loss) == len(h.train_acc) == len(h.test_acc) == len(h.seconds) == 4
    assert h.epoch_loss[-1] < h.epoch_loss[0]
    assert h.test_acc[-1] > 0.9
    assert h.train_acc[-1] == net.accuracy(x[:180], t[:180])
    assert all(isinstance(v, float) for v in h.loss)


def test_callback_stop_iteration_ends_training_cleanly():
    x, t = blobs()

    def stop_after_two(trainer):
        if trainer.epoch == 2:
            raise StopIteration

    trainer = Trainer(TwoLayerNet(8, 4, 3, rng=0), TrainConfig(epochs=10), x, t, callbacks=[stop_after_two])
    assert len(trainer.fit().epoch_loss) == 2 and trainer.epoch == 2


def test_nan_loss_stops_with_the_iteration_and_a_hint():
    x, t = blobs()
    x[70] = np.nan
    trainer = Trainer(TwoLayerNet(8, 4, 3, rng=0), TrainConfig(epochs=3, batch_size=10, lr=0.5, seed=0), x, t)
    # the first batch that holds sample 70 is where the loss turns NaN: find it in the seed's permutation
    position = int(np.flatnonzero(np.random.default_rng(0).permutation(230) == 70)[0])
    expected = position // 10 + 1
    with pytest.raises(DivergedError, match=rf"became nan at iteration {expected} \(epoch 1\)") as e:
        trainer.fit()
    assert "learning rate 0.5 is probably too high; try a lower one, e.g. 0.05" in str(e.value)
    assert e.value.iteration == expected and trainer.epoch == 0


def test_divergence_does_not_overwrite_the_good_checkpoint(tmp_path):
    x, t = blobs()
    path = tmp_path / "ckpt.npz"

    def save_then_sabotage(trainer):
        trainer.save_checkpoint(path)
        trainer.optimizer.lr = 1e30  # the next epoch blows up

    trainer = Trainer(
        TwoLayerNet(8, 16, 3, rng=0), TrainConfig(epochs=5, batch_size=10), x, t, callbacks=[save_then_sabotage]
    )
    good = None

    def remember(tr):
        nonlocal good
        good = {k: v.copy() for k, v in tr.net.params.items()}

    trainer.callbacks.insert(0, remember)
    with pytest.raises(DivergedError, match="epoch 2"):
        trainer.fit()
    saved = checkpoint.load(path)
    assert saved.epoch == 1
    for key, value in good.items():
        np.testing.assert_array_equal(saved.net.params[key], value)


@pytest.mark.parametrize(
    "sampling,optimizer,extend",
    [("epoch", "sgd", False), ("book", "adam", False), ("epoch", "momentum", False), ("epoch", "adam", True)],
)
def test_resume_after_an_interrupt_equals_the_uninterrupted_run(tmp_path, sampling, optimizer, extend):
    x, t = blobs(n=205)
    config = TrainConfig(epochs=5, batch_size=20, optimizer=optimizer, lr=0.01, sampling=sampling, seed=7)

    def net():
        if extend:  # batch norm's running statistics and dropout's generators must travel in the checkpoint too
            return MultiLayerNetExtend(
                8, [12, 6], 3, use_batchnorm=True, use_dropout=True, dropout_ration=0.3, dtype=np.float32, rng=3
            )
        return MultiLayerNet(8, [12, 6], 3, weight_init_std="he", dtype=np.float32, rng=3)

    straight = Trainer(net(), config, x[:160], t[:160], x[160:], t[160:])
    straight.fit()

    path = tmp_path / "run.npz"
    interrupted = Trainer(
        net(), config, x[:160], t[:160], x[160:], t[160:], callbacks=[lambda tr: tr.save_checkpoint(path)]
    )
    real_gradient = interrupted.net.gradient

    def gradient_then_ctrl_c(xb, tb):
        # the 3rd iteration of epoch 3 (8 iterations per epoch); told by the run's own state, not by counting
        # calls: the thread choice's timing steps call gradient too (and put the net's state back)
        if interrupted.epoch == 2 and len(interrupted.history.loss) == 2 * 8 + 2:
            raise KeyboardInterrupt
        return real_gradient(xb, tb)

    interrupted.net.gradient = gradient_then_ctrl_c
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit()
    assert interrupted.epoch == 2 and len(interrupted.history.loss) == 16  # the partial epoch is not recorded

    resumed = Trainer.from_checkpoint(path, x[:160], t[:160], x[160:], t[160:])
    assert resumed.epoch == 2
    resumed.fit()
    for key, value in {**straight.net.params, **straight.net.buffers}.items():
        np.testing.assert_array_equal({**resumed.net.params, **resumed.net.buffers}[key], value, err_msg=key)
    assert resumed.history.loss == straight.history.loss
    assert resumed.history.test_acc == straight.history.test_acc
    assert resumed.optimizer.steps == straight.optimizer.steps


def test_resume_on_a_different_training_set_size_is_refused(tmp_path):
    x, t = blobs()
    trainer = Trainer(TwoLayerNet(8, 4, 3, rng=0), TrainConfig(epochs=1, batch_size=10), x, t)
    trainer.fit()
    trainer.save_checkpoint(tmp_path / "c.npz")
    with pytest.raises(ValueError, match="iterations per epoch"):
        Trainer.from_checkpoint(tmp_path / "c.npz", x[:50], t[:50])


def test_config_and_input_errors():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="lr must be a positive"):
        TrainConfig(lr=-1)
    with pytest.raises(ValueError, match="sampling must be one of"):
        TrainConfig(sampling="random")
    with pytest.raises(ValueError, match="unknown optimizer"):
        TrainConfig(optimizer="lbfgs")
    x, t = blobs()
    with pytest.raises(ValueError, match="230 samples but t_train has 10 labels"):
        Trainer(TwoLayerNet(8, 4, 3), TrainConfig(), x, t[:10])
    with pytest.raises(ValueError, match="both x_test and t_test"):
        Trainer(TwoLayerNet(8, 4, 3), TrainConfig(), x, t, x_test=x)
    assert TrainConfig.from_dict(TrainConfig(lr=0.3, sampling="book").to_dict()) == TrainConfig(lr=0.3, sampling="book")
    assert History.from_dict(History(loss=[1.0], iterations_per_epoch=3).to_dict()).loss == [1.0]


def test_book_trainer_runs_the_books_loop(capsys):
    from zerograd.book.multi_layer_net import MultiLayerNet as BookNet
    from zerograd.book.trainer import Trainer as BookTrainer

    x, t = blobs(n=300)
    np.random.seed(0)
    net = BookNet(input_size=8, hidden_size_list=[10, 10], output_size=3)
    trainer = BookTrainer(
        net,
        x[:200],
        t[:200],
        x[200:],
        t[200:],
        epochs=3,
        mini_batch_size=50,
        optimizer="Adam",
        optimizer_param={"lr": 0.01},
        evaluate_sample_num_per_epoch=100,
        verbose=True,
    )
    trainer.train()
    assert trainer.max_iter == 12 and len(trainer.train_loss_list) == 12
    assert len(trainer.train_acc_list) == len(trainer.test_acc_list) == 3
    assert trainer.test_acc_list[-1] > 0.8
    out = capsys.readouterr().out
    assert "=== epoch:3, train acc:" in out and "Final Test Accuracy" in out
    with pytest.raises(ValueError, match="unknown optimizer 'LBFGS'"):
        BookTrainer(net, x, t, x, t, optimizer="LBFGS")
    assert type(BookTrainer(net, x, t, x, t, optimizer="rmsprpo").optimizer).__name__ == "RMSprop"


def test_the_chapter_example_script_learns_the_digit_sample():
    import subprocess
    import sys
    from pathlib import Path

    from zerograd.datasets import DatasetError, load_dataset

    try:
        load_dataset("mnist-sample", download=False)
    except DatasetError as err:
        pytest.skip(f"the bundled MNIST sample is missing: {err}")
    script = Path(__file__).resolve().parents[1] / "examples" / "train_neuralnet.py"
    result = subprocess.run([sys.executable, str(script), "mnist-sample"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    final = float(result.stdout.strip().splitlines()[-1].split()[-1])
    assert final >= 0.9, result.stdout
