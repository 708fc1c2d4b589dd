"""One run, described once: ``RunSpec`` says which data, which net, which optimizer and how to train; ``build()``
turns it into data, net and trainer, and ``run()`` trains it with callbacks.

    from zerograd.run import RunSpec

    spec = RunSpec(dataset="mnist-sample", hidden=(100, 100), optimizer="adam", epochs=3, out="runs/mine")
    trainer = spec.run()                      # writes runs/mine/checkpoint.npz and metrics.csv after each epoch
    print(trainer.history.test_acc[-1])

Every way zerograd starts training goes through here: ``zerograd train`` (``RunSpec.from_args``), ``--resume``
(``RunSpec.from_checkpoint``), a ``zerograd tune`` trial and the browser's training page (``RunSpec.from_dict``).
A spec is frozen and checked field by field when made: a bad value is an ``OptionError`` naming the field.

Seeds: the initial weights come from ``np.random.default_rng([seed, 1])`` (or ``init_seed`` when given) and the
batch order from ``seed`` itself, so the two never share a stream and one number repeats a whole run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from .engine.thread_choice import THREAD_CHOICES
from .nets import ACTIVATIONS
from .optim import DEFAULT_LR, OPTIMIZERS
from .train import SAMPLINGS, TRAIN_ACCURACIES, History, TrainConfig, Trainer
from .validators import (
    OptionError,
    RunError,
    choice,
    fraction,
    init_scale,
    non_negative_float,
    parse_hidden,
    positive_float,
    positive_int,
    seed,
)

__all__ = [
    "CHECKPOINT",
    "METRICS",
    "NET_KINDS",
    "Built",
    "Checkpointing",
    "OptionError",
    "RunCallback",
    "RunData",
    "RunError",
    "RunSpec",
    "net_sizes",
    "number_of_classes",
    "write_metrics",
]

# mlp: the chapter's TwoLayerNet for one ReLU layer without weight decay, else a MultiLayerNet (chosen for you);
# twolayer / multilayer: that class (MultiLayerNetExtend when batchnorm or dropout is asked);
# convnet: chapter 7's SimpleConvNet; deepconvnet: chapter 8's DeepConvNet
NET_KINDS = ("mlp", "twolayer", "multilayer", "convnet", "deepconvnet")
CONVNETS = ("convnet", "deepconvnet")
DTYPES = ("float32", "float64")
DEFAULT_HIDDEN = {"convnet": 100, "deepconvnet": 50}  # the books' Affine widths
CONVNET_INIT = "he"  # SimpleConvNet's initial weight scale in a run when init is not given (see _convnet)
CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.csv"
_TRAIN = TrainConfig()  # the defaults of training: the chapter's run


@dataclass(frozen=True)
class RunSpec:
    """A whole training run. Every default reproduces ``zerograd train`` with no flags: the chapter's
    TwoLayerNet(784, 50, 10), SGD lr 0.1, batches of 100, 17 epochs on MNIST."""

    # -- data
    dataset: str = "mnist"  # mnist, fashion-mnist, mnist-sample, or the path of an .npz
    root: str | None = None  # folder of the dataset's files; None = the datasets' own
    dtype: str = "float32"  # float32 is twice as fast; float64 is the book's
    max_classes: int | None = None  # refuse an .npz whose labels imply more classes; None = the loader's 1000
    download: bool = True  # False: local copies only (the browser never makes the server download)
    # -- net
    net: str = "mlp"  # one of NET_KINDS
    hidden: tuple[int, ...] | None = None  # hidden widths; None = (50,) for an mlp, the book's width for a convnet
    activation: str = "relu"
    init: float | str | None = None  # std, or he/xavier; None = each net's book default (0.01 TwoLayerNet, He/Xavier)
    batchnorm: bool = False  # after each hidden Affine (MultiLayerNetExtend)
    dropout: float = 0.0  # ratio after each hidden activation, in [0, 1)
    weight_decay: float = 0.0  # L2 penalty λ
    init_seed: tuple[int, ...] | None = None  # seed words of the initial weights; None = (seed, 1)
    # -- optimizer
    optimizer: str | None = None  # None = sgd, or adam for the convnets (as the book trains them)
    lr: float | None = None  # None = the optimizer's DEFAULT_LR
    optimizer_params: tuple[tuple[str, float], ...] = ()  # momentum, beta1, ... ; empty = the book's
    # -- training
    epochs: int = _TRAIN.epochs
    batch_size: int = _TRAIN.batch_size
    sampling: str = _TRAIN.sampling  # epoch: a shuffled pass; book: np.random.choice batches
    seed: int = _TRAIN.seed  # the batch order (and, through init_seed's default, the initial weights)
    eval_batch_size: int = _TRAIN.eval_batch_size
    eval_train_samples: int | None = _TRAIN.eval_train_samples  # train accuracy on the first N only; None = all
    # running: the epoch's own batches (free); evaluated: a pass over eval_train_samples after the epoch;
    # None = evaluated when eval_train_samples is given, else running
    train_accuracy: str | None = None
    eval_every: int = _TRAIN.eval_every  # evaluate after every N-th epoch and the last (NaN between)
    blas_threads: int | None = _TRAIN.blas_threads
    zerograd_threads: int | None = _TRAIN.zerograd_threads  # None = one per core (ZEROGRAD_THREADS overrides)
    thread_choice: str = _TRAIN.thread_choice  # auto, identical, fastest or off (zerograd.engine.thread_choice)
    # -- output
    out: str | None = None  # folder for checkpoint.npz and metrics.csv after each epoch; None = write nothing
    resume: str | None = None  # a checkpoint to continue: the net, optimizer and their state come from it

    def __post_init__(self) -> None:
        _check_data(self)
        _check_net(self)
        _check_training(self)

    # -- making one ------------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, values: Any) -> RunSpec:
        """A spec from JSON-like values (a tune trial, the browser's form, a saved spec): unknown names and bad
        values are one ``OptionError`` naming the field."""
        if not isinstance(values, dict):
            raise OptionError("the run's settings", f" must be a JSON object, got {type(values).__name__}")
        known = [f.name for f in fields(cls)]
        for name in values:
            if name not in known:
                raise OptionError(str(name)[:40], f" is not a run option; the options are {', '.join(known)}")
        return cls(**values)

    @classmethod
    def from_args(cls, args: Any, out: str | Path | None = None) -> RunSpec:
        """The spec of ``zerograd train``'s parsed arguments (an ``argparse.Namespace`` whose unset options are
        None); errors name the flags (``--epochs``). ``out``: the run's folder, as the command resolved it."""
        given = {name: getattr(args, name) for name in _ARG_FIELDS if getattr(args, name, None) is not None}
        resume = getattr(args, "resume", None)
        if getattr(args, "eval_samples", None) is not None:  # --eval-samples N|all: an evaluated train accuracy
            samples = str(args.eval_samples).strip().lower()
            given["train_accuracy"] = "evaluated"
            if samples != "all":
                if not samples.isdigit():
                    raise OptionError(
                        "--eval-samples", f" must be a number of samples or 'all', got {args.eval_samples!r}"
                    )
                given["eval_train_samples"] = int(samples)
        try:
            if resume:
                refused = [_flag(name) for name in given if name not in _RESUME_FIELDS]
                if refused:
                    raise OptionError(
                        "--resume",
                        f" continues the saved run with its own settings; "
                        f"{', '.join(refused)} cannot change it (with --resume give only --epochs, "
                        "--dataset, --root, --out, --no-plot)",
                    )
                if "epochs" in given:
                    positive_int(given["epochs"], "epochs")
                return cls.from_checkpoint(
                    resume, epochs=given.get("epochs"), dataset=given.get("dataset"), root=given.get("root"), out=out
                )
            return cls(**given, out=None if out is None else str(out))
        except OptionError as err:
            raise err.renamed(_FLAGS) from None

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        epochs: int | None = None,
        dataset: str | None = None,
        root: str | None = None,
        out: str | Path | None = None,
    ) -> RunSpec:
        """The spec that continues the run saved at ``path``: its training settings, dtype and dataset (unless
        given); ``epochs`` may raise the total. The net and optimizer are read from the file by ``build()``."""
        ckpt = _load_checkpoint(path)
        if ckpt.train_config is None:
            raise RunError(f"{path}: this checkpoint holds a net only, not a training run to resume")
        try:
            saved = TrainConfig.from_dict(ckpt.train_config)
        except (ValueError, TypeError) as err:
            raise RunError(f"{path}: its training settings are damaged ({err})") from None
        _, n_classes = net_sizes(ckpt.net)
        train = {name: value for name, value in asdict(saved).items() if name in _TRAIN_FIELDS}
        try:
            return cls(
                dataset=dataset or ckpt.metadata.get("dataset_spec") or "mnist",
                root=root or ckpt.metadata.get("root"),
                dtype=ckpt.net.dtype.name,
                max_classes=n_classes,
                **train,
                optimizer_params=tuple(saved.optimizer_params.items()),
                epochs=saved.epochs if epochs is None else epochs,
                out=None if out is None else str(out),
                resume=str(path),
            )
        except OptionError as err:
            if err.option in ("epochs", "dataset", "root", "out"):
                raise  # the caller's own value
            raise RunError(f"{path}: its training settings are damaged ({err})") from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able values; ``RunSpec.from_dict(spec.to_dict()) == spec``."""
        return asdict(self)

    # -- what it describes -----------------------------------------------------------------------------------

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            optimizer=str(self.optimizer),
            lr=float(self.lr or 0),
            optimizer_params=dict(self.optimizer_params),
            seed=self.seed,
            sampling=self.sampling,
            eval_batch_size=self.eval_batch_size,
            eval_train_samples=self.eval_train_samples,
            train_accuracy=self.train_accuracy,
            eval_every=self.eval_every,
            blas_threads=self.blas_threads,
            zerograd_threads=self.zerograd_threads,
            thread_choice=self.thread_choice,
        )

    def load_data(self) -> Any:
        """The dataset, as ``zerograd.datasets.load_dataset`` gives it (raises its ``DatasetError``)."""
        from .datasets import MAX_CLASSES, load_dataset

        return load_dataset(
            self.dataset,
            root=self.root,
            dtype=np.dtype(self.dtype),
            download=self.download,
            progress=self.download,
            max_classes=self.max_classes or MAX_CLASSES,
        )

    def metadata(self, data: Any) -> dict[str, Any]:
        """What a checkpoint records about the data; paths resolved, so evaluate and --resume work from any
        folder."""
        return {
            "dataset": getattr(data, "name", self.dataset),
            "dataset_spec": resolved_spec(self.dataset),
            "root": str(Path(self.root).expanduser().resolve()) if self.root else None,
            "classes": [str(c) for c in getattr(data, "classes", ()) or ()],
        }

    def build_net(
        self,
        sample_shape: int | Sequence[int],
        num_classes: int,
        rng: np.random.Generator | None = None,
        image_shape: Sequence[int] | None = None,
    ) -> Any:
        """The net this spec describes, for samples of ``sample_shape`` (``784`` or ``(1, 28, 28)``) and
        ``num_classes`` outputs. rng: the generator of the initial weights (default: from ``init_seed``).
        image_shape: the ``(C, H, W)`` the samples were stored with (a flattened dataset keeps it), for a convnet."""
        if rng is None:
            rng = np.random.default_rng(list(self.init_seed) if self.init_seed is not None else [self.seed, 1])
        shape = (sample_shape,) if isinstance(sample_shape, (int, np.integer)) else tuple(sample_shape)
        try:
            if self.net in CONVNETS:
                return _convnet(self, _image_dim(shape, image_shape), num_classes, rng)
            return _mlp(self, math.prod(shape), num_classes, rng)
        except (ValueError, TypeError) as err:
            raise RunError(str(err).replace("weight_init_std", "init")) from None

    def build(self, data: Any = None, callbacks: Sequence[Any] = ()) -> Built:
        """Data (loaded unless given: anything with ``x_train, t_train, x_test, t_test``), net and trainer.

        callbacks: ``RunCallback``s or plain callables called after each epoch with the trainer. With ``out``
        set and no ``Checkpointing`` among them, one is added: the run saves itself after every epoch.
        """
        if data is None:
            data = self.load_data()
        callbacks = list(callbacks)
        if self.out is not None and not any(isinstance(cb, Checkpointing) for cb in callbacks):
            callbacks.insert(0, Checkpointing(self.out, self.metadata(data)))
        epoch_end = [cb.on_epoch if isinstance(cb, RunCallback) else cb for cb in callbacks]
        x_test, t_test = getattr(data, "x_test", None), getattr(data, "t_test", None)
        try:
            if self.resume is not None:
                ckpt = _load_checkpoint(self.resume)
                _check_fits(self, ckpt.net, data)  # before the trainer: a wrong dataset is named as such
                trainer = Trainer.from_checkpoint(
                    ckpt, data.x_train, data.t_train, x_test, t_test, callbacks=epoch_end, epochs=self.epochs
                )
            else:
                net = self.build_net(
                    data.x_train.shape[1:], number_of_classes(data), image_shape=getattr(data, "image_shape", None)
                )
                trainer = Trainer(
                    net, self.train_config(), data.x_train, data.t_train, x_test, t_test, callbacks=epoch_end
                )
        except RunError:
            raise
        except ValueError as err:
            raise RunError(str(err)) from None
        return Built(self, data, trainer, callbacks)

    def run(self, callbacks: Sequence[Any] = (), data: Any = None) -> Trainer:
        """Build and train to ``epochs``; returns the trainer (``.net``, ``.history``). Raises
        ``zerograd.train.DivergedError`` when the loss becomes NaN or infinite."""
        return self.build(data, callbacks).fit()

    def replace(self, **changes: Any) -> RunSpec:
        """A copy with some fields changed (and checked again)."""
        return replace(self, **changes)


@dataclass
class Built:
    """What ``RunSpec.build`` made: the spec, its data, the trainer (``trainer.net`` is the net) and the
    callbacks it trains with."""

    spec: RunSpec
    data: Any
    trainer: Trainer
    callbacks: list[Any] = field(default_factory=list)

    @property
    def net(self) -> Any:
        return self.trainer.net

    def fit(self) -> Trainer:
        """Train from the trainer's epoch to the spec's last: ``on_start`` once, ``on_batches`` every few
        iterations, ``on_epoch`` after each epoch (through the trainer's callbacks)."""
        hooks = [cb for cb in self.callbacks if isinstance(cb, RunCallback)]
        for cb in hooks:
            cb.on_start(self)
        watching = [cb for cb in hooks if type(cb).on_batches is not RunCallback.on_batches]
        self.trainer.fit(progress=_Batches(self.trainer, watching) if watching else None)
        return self.trainer


class RunCallback:
    """Hooks of a run; override the ones you need (a plain callable is an ``on_epoch``)."""

    def on_start(self, run: Built) -> None:
        """Once, before the first epoch still to train: ``run.data``, ``run.trainer`` and ``run.spec`` are ready."""

    def on_batches(self, trainer: Trainer, n: int) -> None:
        """About 100 times an epoch: ``n`` more iterations are done (``trainer.history.loss`` holds their losses).
        Raise to stop the run mid-epoch; that epoch is not recorded."""

    def on_epoch(self, trainer: Trainer) -> None:
        """After each epoch; raise ``StopIteration`` to end the run cleanly here."""


class _Batches:
    """The trainer's ``progress`` object: hands each ``update(n)`` to the callbacks that watch batches."""

    def __init__(self, trainer: Trainer, callbacks: list[RunCallback]) -> None:
        self.trainer, self.callbacks = trainer, callbacks

    def update(self, n: int) -> None:
        for cb in self.callbacks:
            cb.on_batches(self.trainer, n)


class Checkpointing(RunCallback):
    """After each epoch: ``out/checkpoint.npz`` (everything ``--resume`` needs) and ``out/metrics.csv``, each
    written atomically. ``writing`` names the file being written when an ``OSError`` escapes."""

    def __init__(self, out: str | Path, metadata: dict[str, Any] | None = None) -> None:
        self.out, self.metadata = Path(out), metadata
        self.saved_epoch: int | None = None  # the epoch of the checkpoint in `out`, once one is written
        self.writing = self.out / CHECKPOINT

    def on_epoch(self, trainer: Trainer) -> None:
        self.writing = self.out / CHECKPOINT
        trainer.save_checkpoint(self.writing, metadata=self.metadata)
        self.saved_epoch = trainer.epoch
        self.writing = self.out / METRICS
        write_metrics(self.writing, trainer.history, getattr(trainer, "train_acc_on", ""))


@dataclass(frozen=True)
class RunData:
    """Prepared arrays to train on (a tune study's train/validation split): x: (N, ...), t: (N,)."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray | None = None  # evaluated after each epoch into history.test_acc (validation, for tune)
    t_test: np.ndarray | None = None
    num_classes: int = 0  # 0 = max(t_train) + 1
    name: str = "arrays"


def write_metrics(path: Path, history: History, train_acc_on: str = "") -> None:
    """``epoch,loss,train_acc,test_acc,seconds,train_acc_on`` per epoch, written atomically. An epoch that was
    not evaluated (``eval_every``) has empty accuracy cells. train_acc_on: what train_acc measured (``running``,
    ``first 10000``, ``all 60000``: ``Trainer.train_acc_on``)."""
    from .io.fileio import write_text

    def cell(values: list[float], i: int, digits: int) -> str:
        if i >= len(values) or math.isnan(values[i]):  # a resumed run of your own may lack some
            return ""
        return f"{values[i]:.{digits}f}"

    rows = ["epoch,loss,train_acc,test_acc,seconds,train_acc_on"]
    for i, loss in enumerate(history.epoch_loss):
        rows.append(
            f"{i + 1},{loss:.6f},{cell(history.train_acc, i, 6)},{cell(history.test_acc, i, 6)},"
            f"{cell(history.seconds, i, 4)},{train_acc_on}"
        )
    write_text(path, "\n".join(rows) + "\n", make_dirs=True)


# -- sizes of data and nets ------------------------------------------------------------------------------------


def number_of_classes(data: Any) -> int:
    """The data's class count: its class names, else its ``num_classes``, else the largest label + 1."""
    classes = getattr(data, "classes", None)
    if classes:
        return len(classes)
    return int(getattr(data, "num_classes", 0) or 0) or int(np.max(data.t_train)) + 1


def net_sizes(net: Any) -> tuple[int, int]:
    """``(features in, classes out)`` of a loaded net: its own ``input_size``/``output_size`` (the chapter's nets),
    else those of its first and last layers with ``in_features``/``out_features`` (a ``Sequential``)."""
    inp, out = getattr(net, "input_size", None), getattr(net, "output_size", None)
    if inp is None or out is None:
        layers = list(getattr(net, "layers", {}).values())
        ins = [layer.in_features for layer in layers if hasattr(layer, "in_features")]
        outs = [layer.out_features for layer in layers if hasattr(layer, "out_features")]
        if not ins or not outs:
            raise RunError(
                f"cannot tell how many features {type(net).__name__} takes and how many classes it "
                "predicts: it has no Affine layer"
            )
        inp, out = ins[0], outs[-1]
    return int(inp), int(out)


def resolved_spec(dataset: str) -> str:
    """A dataset name as it is; the path of an ``.npz`` made absolute, so a checkpoint works from any folder."""
    from .datasets import DATASET_NAMES

    if dataset.lower().replace("_", "-") in DATASET_NAMES:
        return dataset
    return str(Path(dataset).expanduser().resolve())


def _load_checkpoint(path: str | Path) -> Any:
    from .checkpoint import CheckpointError, load

    try:
        return load(path)
    except CheckpointError as err:
        raise RunError(str(err)) from None


def _check_fits(spec: RunSpec, net: Any, data: Any) -> None:
    input_size, n_classes = net_sizes(net)
    features = math.prod(data.x_train.shape[1:])
    if features != input_size or number_of_classes(data) > n_classes:
        raise RunError(
            f"{spec.resume}: the saved net takes {input_size} features and predicts {n_classes} "
            f"classes; {getattr(data, 'name', spec.dataset)} has {features} features and "
            f"{number_of_classes(data)} classes"
        )
    saved_dim, data_dim = getattr(net, "input_dim", None), getattr(data, "image_shape", None)
    if saved_dim is not None and data_dim is not None and tuple(saved_dim) != tuple(data_dim):
        raise RunError(
            f"{spec.resume}: the saved net takes images of (C, H, W) {tuple(saved_dim)}; "
            f"{getattr(data, 'name', spec.dataset)} has {tuple(data_dim)}"
        )


def _image_dim(shape: tuple[int, ...], image_shape: Sequence[int] | None = None) -> tuple[int, int, int]:
    """``(C, H, W)`` of one sample: the shape it was stored with (``image_shape``, which a flattened dataset keeps),
    ``shape`` itself when ``(C, H, W)``, or, for data stored as ``(D,)``, square grey images.

    NOTE: the square guess is for ``(D,)`` data alone: a (3, 16, 12) image has 576 values, like a 24×24 one.
    """
    if image_shape is not None:
        c, h, w = (int(n) for n in image_shape)
        if c * h * w != math.prod(shape):  # a caller's mistake, not the user's
            raise ValueError(f"image_shape {tuple(image_shape)} does not hold samples of shape {shape}")
        return c, h, w
    if len(shape) == 3:
        return shape[0], shape[1], shape[2]
    features = math.prod(shape)
    side = math.isqrt(features)
    if len(shape) != 1 or side * side != features:
        raise RunError(
            f"a convolutional net needs images; this dataset's samples are stored as {shape}, {features} values, "
            "not a square grey image: save x as (N, H, W) or (N, C, H, W) in the .npz"
        )
    return 1, side, side


# -- the one place options become a net ------------------------------------------------------------------------


def _mlp(spec: RunSpec, input_size: int, num_classes: int, rng: np.random.Generator) -> Any:
    """The chapter's TwoLayerNet, a MultiLayerNet, or a MultiLayerNetExtend with batch normalization or dropout.
    init None: each net's book default (0.01 for the TwoLayerNet; He for ReLU, Xavier for sigmoid otherwise)."""
    from .nets import MultiLayerNet, MultiLayerNetExtend, TwoLayerNet

    sizes = list(spec.hidden or (50,))
    if _is_twolayer(spec):
        return TwoLayerNet(
            input_size,
            sizes[0],
            num_classes,
            weight_init_std=0.01 if spec.init is None else spec.init,
            dtype=spec.dtype,
            rng=rng,
        )
    default = "he" if spec.activation == "relu" else "xavier"  # the scale that suits the activation (chapter 6)
    options: dict[str, Any] = dict(
        activation=spec.activation,
        weight_init_std=default if spec.init is None else spec.init,
        weight_decay_lambda=spec.weight_decay,
        dtype=spec.dtype,
        rng=rng,
    )
    if spec.batchnorm or spec.dropout:
        return MultiLayerNetExtend(
            input_size,
            sizes,
            num_classes,
            use_dropout=spec.dropout > 0,
            dropout_ration=spec.dropout,
            use_batchnorm=spec.batchnorm,
            **options,
        )
    return MultiLayerNet(input_size, sizes, num_classes, **options)


def _is_twolayer(spec: RunSpec) -> bool:
    if spec.net == "twolayer":
        return True
    hidden = spec.hidden or (50,)
    return (
        spec.net == "mlp"
        and len(hidden) == 1
        and spec.activation == "relu"
        and spec.weight_decay == 0
        and not spec.batchnorm
        and not spec.dropout
    )


def _convnet(spec: RunSpec, dim: tuple[int, int, int], num_classes: int, rng: np.random.Generator) -> Any:
    """SimpleConvNet (``convnet``) or DeepConvNet (``deepconvnet``) with the book's layers, for these images."""
    from .convnets import DeepConvNet, SimpleConvNet

    hidden = spec.hidden[0] if spec.hidden else DEFAULT_HIDDEN[spec.net]
    if spec.net == "convnet":
        # NOTE: a run starts SimpleConvNet from He, not the book's std 0.01: with 0.01 Fashion-MNIST stays at 0.89
        # after 5 epochs, and the README's command must reach its 0.90; the library's and zerograd.book's
        # SimpleConvNet keep the book's 0.01
        return SimpleConvNet(
            dim,
            hidden_size=hidden,
            output_size=num_classes,
            weight_init_std=CONVNET_INIT if spec.init is None else spec.init,
            weight_decay_lambda=spec.weight_decay,
            dtype=spec.dtype,
            rng=rng,
        )
    return DeepConvNet(
        dim,
        hidden_size=hidden,
        output_size=num_classes,
        weight_decay_lambda=spec.weight_decay,
        dtype=spec.dtype,
        rng=rng,
    )


# -- checks, one group of fields each --------------------------------------------------------------------------


def _set(spec: RunSpec, name: str, value: Any) -> None:
    object.__setattr__(spec, name, value)  # a frozen dataclass normalising its own fields while it is made


def _optional_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, Path)) or not str(value):
        raise OptionError(name, f" must be a non-empty text, got {value!r}")
    return str(value)


def _check_data(spec: RunSpec) -> None:
    _set(spec, "dataset", _optional_text(spec.dataset, "dataset") or "mnist")
    _set(spec, "root", _optional_text(spec.root, "root"))
    choice(spec.dtype, DTYPES, "dtype")
    if spec.max_classes is not None:
        positive_int(spec.max_classes, "max_classes")
    if not isinstance(spec.download, bool):
        raise OptionError("download", f" must be true or false, got {spec.download!r}")


def _check_net(spec: RunSpec) -> None:
    choice(spec.net, NET_KINDS, "net")
    if spec.hidden is not None:
        _set(spec, "hidden", tuple(parse_hidden(spec.hidden, "hidden")))
        if spec.net in CONVNETS and len(spec.hidden) != 1:
            raise OptionError(
                "hidden",
                f" for {{net}} {spec.net} is one width (the Affine layer's), got {','.join(map(str, spec.hidden))!r}",
                mentions=("net",),
            )
    choice(spec.activation, tuple(ACTIVATIONS), "activation")
    _set(spec, "init", init_scale(spec.init, "init"))
    if spec.init == 0:
        raise OptionError("init", " must be above 0: weights that all start at zero never learn apart")
    for flag in ("batchnorm",):
        if not isinstance(getattr(spec, flag), bool):
            raise OptionError(flag, f" must be true or false, got {getattr(spec, flag)!r}")
    _set(spec, "dropout", fraction(spec.dropout, "dropout"))
    _set(spec, "weight_decay", non_negative_float(spec.weight_decay, "weight_decay"))
    if spec.net in CONVNETS and (spec.batchnorm or spec.dropout):
        raise OptionError(
            "batchnorm",
            f" and {{dropout}} build an mlp; {{net}} {spec.net} has its own layers",
            mentions=("dropout", "net"),
        )
    if spec.net == "deepconvnet" and spec.init is not None:
        raise OptionError("init", ": DeepConvNet uses He initialisation, as the book's")
    if spec.net == "twolayer" and (
        len(spec.hidden or (50,)) != 1
        or spec.activation != "relu"
        or spec.weight_decay
        or spec.batchnorm
        or spec.dropout
    ):
        raise OptionError(
            "net", " twolayer is the chapter's net: one ReLU hidden layer, no weight decay, no batchnorm or dropout"
        )
    if spec.init_seed is not None:
        words = spec.init_seed if isinstance(spec.init_seed, (list, tuple)) else (spec.init_seed,)
        _set(spec, "init_seed", tuple(seed(w, "init_seed") for w in words))


def _check_training(spec: RunSpec) -> None:
    if spec.optimizer is None:
        _set(spec, "optimizer", "adam" if spec.net in CONVNETS else _TRAIN.optimizer)  # the book's CNNs use Adam
    choice(spec.optimizer, tuple(OPTIMIZERS), "optimizer")
    _set(spec, "lr", DEFAULT_LR[str(spec.optimizer)] if spec.lr is None else positive_float(spec.lr, "lr"))
    params = spec.optimizer_params
    pairs = tuple(params.items()) if isinstance(params, dict) else tuple(tuple(p) for p in params)
    for pair in pairs:
        if len(pair) != 2 or not isinstance(pair[0], str):
            raise OptionError("optimizer_params", f" must map names to numbers, got {params!r}")
    _set(spec, "optimizer_params", tuple((k, non_negative_float(v, f"optimizer_params[{k!r}]")) for k, v in pairs))
    for name in ("epochs", "batch_size", "eval_batch_size", "eval_every"):
        positive_int(getattr(spec, name), name)
    if spec.train_accuracy is not None:
        choice(spec.train_accuracy, TRAIN_ACCURACIES, "train_accuracy")
    for name in ("eval_train_samples", "blas_threads", "zerograd_threads"):
        if getattr(spec, name) is not None:
            positive_int(getattr(spec, name), name)
    choice(spec.thread_choice, THREAD_CHOICES, "thread_choice")
    choice(spec.sampling, SAMPLINGS, "sampling")
    seed(spec.seed, "seed")
    _set(spec, "out", _optional_text(spec.out, "out"))
    _set(spec, "resume", _optional_text(spec.resume, "resume"))


# zerograd train's options that are RunSpec fields; the others (--overwrite, --no-plot) are the command's own
_ARG_FIELDS = (
    "dataset",
    "root",
    "net",
    "hidden",
    "activation",
    "init",
    "batchnorm",
    "dropout",
    "optimizer",
    "lr",
    "batch_size",
    "sampling",
    "weight_decay",
    "dtype",
    "seed",
    "max_classes",
    "epochs",
    "eval_every",
    "thread_choice",
)
_RESUME_FIELDS = ("dataset", "root", "epochs")  # what --resume may change: where the data is, how far to train
_TRAIN_FIELDS = (
    "batch_size",
    "optimizer",
    "lr",
    "seed",
    "sampling",
    "eval_batch_size",
    "eval_train_samples",
    "train_accuracy",
    "eval_every",
    "blas_threads",
    "zerograd_threads",
    "thread_choice",
)
_FLAGS = {name: "--" + name.replace("_", "-") for name in (*_ARG_FIELDS, "out", "resume")}
_FLAGS.update(eval_train_samples="--eval-samples", train_accuracy="--eval-samples")


def _flag(name: str) -> str:
    return _FLAGS.get(name, name)
