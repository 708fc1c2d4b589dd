"""Users' own .npz: loaded without pickle, validated, and given the same options as MNIST."""

import pickle

import numpy as np
import pytest

from zerograd.datasets import DatasetError, load_dataset, load_npz

RNG = np.random.default_rng(1)


def save(path, **arrays):
    np.savez(path, **arrays)
    return path


def good(n=12, m=5, features=(784,), k=3):
    return dict(
        x_train=RNG.integers(0, 256, (n, *features), dtype=np.uint8),
        t_train=np.arange(n) % k,
        x_test=RNG.integers(0, 256, (m, *features), dtype=np.uint8),
        t_test=np.arange(m) % k,
    )


def test_round_trip_with_options(tmp_path):
    arrays = good(features=(28, 28))
    path = save(tmp_path / "mine.npz", **arrays, classes=np.array(["a", "b", "c"]))
    ds = load_dataset(str(path))
    assert ds.name == str(path) and ds.classes == ("a", "b", "c")
    assert ds.x_train.shape == (12, 784) and ds.x_train.dtype == np.float32
    np.testing.assert_array_equal(ds.x_train * 255, arrays["x_train"].reshape(12, -1))
    np.testing.assert_array_equal(ds.t_test, arrays["t_test"])
    assert ds.t_train.dtype == np.uint8
    ds = load_npz(path, flatten=False, normalize=False, one_hot_label=True, dtype=np.float64)
    assert ds.x_train.shape == (12, 1, 28, 28) and ds.x_train.dtype == np.uint8
    assert ds.t_train.shape == (12, 3) and ds.t_train.dtype == np.float64


def test_one_hot_labels_and_float_features(tmp_path):
    x = RNG.random((6, 10))
    t = np.eye(4)[[0, 1, 2, 3, 0, 1]]
    ds = load_npz(save(tmp_path / "f.npz", x_train=x, t_train=t, x_test=x[:2], t_test=t[:2]))
    assert ds.classes == ("0", "1", "2", "3")
    np.testing.assert_array_equal(ds.t_train, [0, 1, 2, 3, 0, 1])
    np.testing.assert_allclose(ds.x_train, x.astype(np.float32))  # floats are cast, not rescaled


def test_pickle_is_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"x_train": 1}))
    with pytest.raises(DatasetError, match="not a readable .npz"):
        load_npz(path)
    arrays = good()
    arrays["t_train"] = np.array([object()] * 12, dtype=object)
    with pytest.raises(DatasetError, match="without pickle"):
        load_npz(save(tmp_path / "obj.npz", **arrays))


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda a: a.pop("t_test"), "missing array(s) t_test"),
        (lambda a: a.update(t_train=a["t_train"][:-1]), "t_train must be (12,)"),
        (lambda a: a.update(x_test=np.zeros((5, 783), np.uint8)), "x_train samples have shape (784,), x_test"),
        (lambda a: a.update(x_train=np.zeros(12, np.uint8)), "x_train must be (N, D)"),
        (lambda a: a.update(x_train=np.zeros((0, 784), np.uint8), t_train=np.zeros(0, int)), "N >= 1"),
        (lambda a: a.update(x_train=np.full((12, 784), 300)), "values 300..300"),
        (lambda a: a.update(x_train=np.full((12, 784), np.nan)), "NaN"),
        (lambda a: a.update(t_train=np.full(12, -1)), "negative label -1"),
        (lambda a: a.update(t_train=np.full(12, 0.5)), "labels must be integers"),
        (lambda a: a.update(t_train=np.ones((12, 3))), "not one-hot"),
        (lambda a: a.update(classes=np.array(["only-one"])), "1 class names but labels go up to 2"),
        (lambda a: a.update(x_train=np.zeros((12, 784), dtype=complex)), "dtype complex128"),
    ],
)
def test_bad_contents_are_named(tmp_path, change, words):
    arrays = good()
    change(arrays)
    path = save(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DatasetError) as info:
        load_npz(path)
    assert words in str(info.value) and str(path) in str(info.value) and "\nHINT: " in str(info.value)


def test_missing_file_npy_and_damaged_zip(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_npz(tmp_path / "absent.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(DatasetError, match="single array"):
        load_npz(tmp_path / "single.npy")
    data = (save(tmp_path / "ok.npz", **good())).read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="cut.npz"):
        load_npz(tmp_path / "cut.npz")


def test_unflatten_needs_square_features(tmp_path):
    path = save(tmp_path / "v.npz", **good(features=(10,)))
    assert load_npz(path).x_train.shape == (12, 10)
    with pytest.raises(DatasetError, match="square images"):
        load_npz(path, flatten=False)
