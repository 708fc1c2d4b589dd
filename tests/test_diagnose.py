"""A catalogue of planted backprop mistakes: each is recognised with the right diagnosis; correct layers never are.

Every planted layer below is a zerograd layer with one slip in its backward (or forward), the way a reader of
chapter 5 writes it. ``check_layer(..., explain=True)`` must fail it and name the slip (``Diagnosis.kind``) on the
right gradient; every correct layer, in float32 and float64, and 200 random correct nets get no diagnosis at all.
"""

from __future__ import annotations

import copy
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from zerograd.convolution import Convolution, Pooling
from zerograd.diagnose import LayerProbe, layer_slips, locate_in_net
from zerograd.gradcheck import check_layer, check_net
from zerograd.layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss
from zerograd.nets import MultiLayerNet, Sequential, TwoLayerNet

# -- the layers and their inputs ---------------------------------------------------------------------------------


def rng(seed=0):
    return np.random.default_rng(seed)


def affine_case(cls, n=5, d=4, m=3, seed=1):
    # NOTE: not seed 0, whose first draws are check_layer's dout: a dout equal to W makes dout @ W.T symmetric
    r = rng(seed)
    return cls(r.standard_normal((d, m)), r.standard_normal(m)), (r.standard_normal((n, d)),), {}


def sigmoid_case(cls, seed=0):
    return cls(), (rng(seed).standard_normal((4, 5)),), {}


def relu_case(cls, seed=10):
    # NOTE: not seed 0: check_layer's dout is drawn from seed 0, and a dout equal to x hides a mask taken from dout
    x = rng(seed).standard_normal((4, 5))
    return cls(), (np.where(np.abs(x) < 0.1, 0.5, x),), {}  # off the kink at 0


def softmax_case(cls, one_hot=False, seed=0):
    r = rng(seed)
    t = r.integers(0, 4, 5)
    return cls(), (r.standard_normal((5, 4)), np.eye(4)[t] if one_hot else t), {}


def batchnorm_case(cls, seed=0, d=4):
    r = rng(seed)
    layer = cls(r.uniform(0.5, 1.5, d), r.standard_normal(d))
    return layer, (r.standard_normal((5, d)),), {"train_flg": True}


def conv_case(cls, seed=0):
    r = rng(seed)
    return (
        cls(r.standard_normal((3, 2, 2, 2)), r.standard_normal(3), stride=1, pad=1),
        (r.standard_normal((2, 2, 5, 4)),),
        {},
    )


def pooling_case(cls, seed=0):
    x = rng(seed).permutation(64).astype(float).reshape(2, 2, 4, 4) / 7  # distinct: no ties
    return cls(2, 2, stride=2), (x,), {}


def check(case, **options):
    layer, inputs, kwargs = case
    return check_layer(layer, *inputs, explain=True, **kwargs, **options)


# -- planted mistakes, one class each ------------------------------------------------------------------------------


class SoftmaxNoDivide(SoftmaxWithLoss):
    def backward(self, dout=1.0):
        return super().backward(dout) * self.y.shape[0]  # forgot the / N of the batch mean


class SoftmaxDividesTwice(SoftmaxWithLoss):
    def backward(self, dout=1.0):
        return super().backward(dout) / self.y.shape[0]


class SoftmaxTMinusY(SoftmaxWithLoss):
    def backward(self, dout=1.0):
        return -super().backward(dout)  # (t - y) / N


class AffineTimesN(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW * len(dout)
        return dx


class AffineDWOverN(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW / len(dout)
        return dx


class AffineMeanBias(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout.mean(axis=0)
        return dx


class ConvDWOverN(Convolution):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.dW = self.dW / len(dout)
        return dx


class BatchNormDGammaOverN(BatchNormalization):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dgamma = self.dgamma / len(dout)
        return dx


class AffineNegBias(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = -self.db
        return dx


class SigmoidNeg(Sigmoid):
    def backward(self, dout):
        return -super().backward(dout)


class ReluNeg(Relu):
    def backward(self, dout):
        return -super().backward(dout)


class BatchNormNegBeta(BatchNormalization):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dbeta = -self.dbeta
        return dx


class SigmoidTwice(Sigmoid):
    def backward(self, dout):
        return 2 * super().backward(dout)


class AffineHalfDx(Affine):
    def backward(self, dout):
        return 0.5 * super().backward(dout)


class ConvDoubleDW(Convolution):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.dW = 2 * self.dW
        return dx


class PoolingDouble(Pooling):
    def backward(self, dout):
        return 2 * super().backward(dout)


class AffineZeroDW(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = np.zeros_like(self.W)
        return dx


class SigmoidZero(Sigmoid):
    def backward(self, dout):
        return np.zeros_like(dout)


class BatchNormZeroGamma(BatchNormalization):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dgamma = np.zeros_like(self.gamma)
        return dx


class AffineDWTransposed(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = dout.T @ self.x  # (M, D): the operands the wrong way round
        return dx


class AffineSquareDWTransposed(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = (self.x.T @ dout).T  # square W: the shapes do not tell
        return dx


class AffineDxTransposed(Affine):
    def backward(self, dout):
        super().backward(dout)
        return (dout @ self.W.T).T  # x square (N = D)


class ConvDxUntransposed(Convolution):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        return np.ascontiguousarray(dx.transpose(1, 0, 2, 3)).reshape(dx.shape)  # (C, N, ...) read as (N, C, ...)


class ConvDWUntransposed(Convolution):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.dW = np.ascontiguousarray(self.dW.transpose(1, 2, 3, 0)).reshape(self.W.shape)
        return dx


class PoolingDxSwapped(Pooling):
    def backward(self, dout):
        return super().backward(dout).transpose(0, 1, 3, 2)  # rows and columns swapped (square images)


class AffineBiasReversed(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = self.db[::-1].copy()
        return dx


class SigmoidRolled(Sigmoid):
    def backward(self, dout):
        return np.roll(super().backward(dout), 1)


class PoolingWrongWinner(Pooling):
    """Sends each window's dout to the pixel beside its maximum (an off-by-one in the argmax's column)."""

    def backward(self, dout):
        dx = super().backward(dout)
        n, c, h, w = dx.shape
        blocks = dx.reshape(n, c, h // 2, 2, w // 2, 2)
        return blocks[:, :, :, :, :, ::-1].reshape(dx.shape)


class AffineBiasIsDout(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout  # (N, M): not summed over the batch
        return dx


class ConvBiasPerSample(Convolution):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.db = dout.sum(axis=(2, 3))  # (N, FN): pixels summed, the batch not
        return dx


class BatchNormBetaIsDout(BatchNormalization):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dbeta = dout
        return dx


class AffineBiasFirstRow(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout[0]
        return dx


class AffineBiasLastRow(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout[-1].copy()
        return dx


class BatchNormBetaFirstRow(BatchNormalization):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dbeta = dout[0]
        return dx


class AffineBiasSumsFeatures(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout.sum(axis=1)  # N = M: the shapes fit, the axis is wrong
        return dx


class BatchNormBetaSumsFeatures(BatchNormalization):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dbeta = dout.sum(axis=1)
        return dx


class SigmoidIgnoresDout(Sigmoid):
    def backward(self, dout):
        return self.out * (1 - self.out)


class ReluIgnoresDout(Relu):
    def backward(self, dout):
        return self.active.astype(float)


class AffineIgnoresDout(Affine):
    def backward(self, dout):
        super().backward(dout)
        return np.ones_like(dout) @ self.W.T


class SigmoidFromX(Sigmoid):
    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, dout):
        return dout * self.x * (1 - self.x)  # y(1 - y) from x


class SigmoidForgetsOneMinusY(Sigmoid):
    def backward(self, dout):
        return dout * self.out


class SigmoidPassesThrough(Sigmoid):
    def backward(self, dout):
        return dout.copy()


class ReluMaskFromDout(Relu):
    def backward(self, dout):
        return dout * (dout > 0)


class ReluTimesOutput(Relu):
    def forward(self, x):
        self.out = super().forward(x)
        return self.out

    def backward(self, dout):
        return dout * self.out


class ReluWritesDout(Relu):
    def backward(self, dout):
        dout[~self.active] = 0  # the book's in-place slip
        return dout


class SigmoidWritesDout(Sigmoid):
    def backward(self, dout):
        dout *= (1.0 - self.out) * self.out
        return dout


class BatchNormWritesDout(BatchNormalization):
    def backward(self, dout):
        dout *= 1.5
        return super().backward(dout / 1.5)


class ReluInPlace(Relu):
    def forward(self, x):
        self.active = x > 0
        np.maximum(x, 0, out=x)  # the caller's x overwritten
        return x


class AffineFreesInput(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.x[...] = 0  # "free" the kept input: it is the caller's array
        return dx


class SigmoidConsumesOut(Sigmoid):
    def backward(self, dout):
        self.out *= 1.0 - self.out  # the kept y overwritten by y(1 - y)
        return dout * self.out


class AffineUpdatesInBackward(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.W -= 0.1 * self.dW  # an SGD step inside backward
        return dx


class DropoutRedraws(Dropout):
    def hold_mask(self, hold):
        pass  # a mask redrawn on every call


class GlobalRandomDropout(Relu):
    """A hand-written dropout on numpy's global generator, as in the book."""

    def forward(self, x):
        self.keep = np.random.rand(*x.shape) > 0.5
        return x * self.keep

    def backward(self, dout):
        return dout * self.keep


class BatchNormRunningInTraining(BatchNormalization):
    def forward(self, x, train_flg=None):
        super().forward(x, True)  # updates the running statistics ...
        return super().forward(x, False)  # ... and normalises with them while training


class SigmoidAnnealed(Sigmoid):
    """A temperature that grows on every call."""

    calls = 0

    def forward(self, x):
        self.calls += 1
        self.scale = 1.0 + 0.1 * self.calls
        return super().forward(x * self.scale)

    def backward(self, dout):
        return super().backward(dout) * self.scale


class SigmoidFloat32(Sigmoid):
    def forward(self, x):
        return super().forward(x.astype(np.float32))


class AffineFloat32(Affine):
    def forward(self, x):
        self.original_x_shape = x.shape
        self.x = x
        return x.astype(np.float32) @ self.W.astype(np.float32) + self.b.astype(np.float32)


class BatchNormForgetsTheMean(BatchNormalization):
    def backward(self, dout):
        super().backward(dout)
        dxn = self.gamma * dout
        n = len(dout)
        return (dxn - self.xn * np.sum(dxn * self.xn, axis=0) / n) / self.std  # the mean path missing


def kink_relu_case():
    x = rng(1).standard_normal((3, 4))
    x[1, 2] = 0.0
    x[0, 1] = 0.0
    return Relu(), (x,), {}


def tied_pooling_case():
    x = rng(2).permutation(32).astype(float).reshape(1, 2, 4, 4)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = 50.0  # two equal maxima in one window
    x[0, 1, 2, 2] = x[0, 1, 3, 2] = 60.0
    return Pooling(2, 2, stride=2), (x,), {}


def all_zero_relu_case():
    return Relu(), (np.zeros((3, 4)),), {}  # backprop 0, numerical dout / 2: not a factor, a kink


def near_kink_relu_case():
    x = rng(3).standard_normal((3, 4))
    x[2, 0] = 3e-7  # within h = 1e-6 of 0
    return Relu(), (x,), {}


CATALOGUE = [
    # (case, expected gradient name, expected kind, check_layer options)
    (lambda: softmax_case(SoftmaxNoDivide), "x", "times-batch-size", {}),
    (lambda: softmax_case(SoftmaxNoDivide, one_hot=True), "x", "times-batch-size", {}),
    (lambda: affine_case(AffineTimesN), "W", "times-batch-size", {}),
    (lambda: softmax_case(SoftmaxDividesTwice), "x", "divided-by-batch-size", {}),
    (lambda: affine_case(AffineDWOverN), "W", "divided-by-batch-size", {}),
    (lambda: affine_case(AffineMeanBias), "b", "divided-by-batch-size", {}),
    (lambda: conv_case(ConvDWOverN), "W", "divided-by-batch-size", {}),
    (lambda: batchnorm_case(BatchNormDGammaOverN), "gamma", "divided-by-batch-size", {}),
    (lambda: softmax_case(SoftmaxTMinusY), "x", "sign-flipped", {}),
    (lambda: affine_case(AffineNegBias), "b", "sign-flipped", {}),
    (lambda: sigmoid_case(SigmoidNeg), "x", "sign-flipped", {}),
    (lambda: relu_case(ReluNeg), "x", "sign-flipped", {}),
    (lambda: batchnorm_case(BatchNormNegBeta), "beta", "sign-flipped", {}),
    (lambda: sigmoid_case(SigmoidTwice), "x", "constant-factor", {}),
    (lambda: affine_case(AffineHalfDx), "x", "constant-factor", {}),
    (lambda: conv_case(ConvDoubleDW), "W", "constant-factor", {}),
    (lambda: pooling_case(PoolingDouble), "x", "constant-factor", {}),
    (lambda: affine_case(AffineZeroDW), "W", "zero-gradient", {}),
    (lambda: sigmoid_case(SigmoidZero), "x", "zero-gradient", {}),
    (lambda: batchnorm_case(BatchNormZeroGamma), "gamma", "zero-gradient", {}),
    (lambda: affine_case(AffineDWTransposed), "W", "transpose", {}),
    (lambda: affine_case(AffineSquareDWTransposed, d=3), "W", "transpose", {}),
    (lambda: affine_case(AffineDxTransposed, n=4), "x", "transpose", {}),
    (lambda: conv_case(ConvDxUntransposed), "x", "axes-order", {}),
    (lambda: conv_case(ConvDWUntransposed), "W", "axes-order", {}),
    (lambda: pooling_case(PoolingDxSwapped), "x", "axes-order", {}),
    (lambda: affine_case(AffineBiasReversed), "b", "permutation", {}),
    (lambda: sigmoid_case(SigmoidRolled), "x", "permutation", {}),
    (lambda: pooling_case(PoolingWrongWinner), "x", "permutation", {}),
    (lambda: affine_case(AffineBiasIsDout), "b", "bias-not-summed", {}),
    (lambda: conv_case(ConvBiasPerSample), "b", "bias-not-summed", {}),
    (lambda: batchnorm_case(BatchNormBetaIsDout), "beta", "bias-not-summed", {}),
    (lambda: affine_case(AffineBiasFirstRow), "b", "bias-one-row", {}),
    (lambda: affine_case(AffineBiasLastRow), "b", "bias-one-row", {}),
    (lambda: batchnorm_case(BatchNormBetaFirstRow), "beta", "bias-one-row", {}),
    (lambda: affine_case(AffineBiasSumsFeatures, n=3, m=3), "b", "wrong-axes", {}),
    (lambda: batchnorm_case(BatchNormBetaSumsFeatures, d=5), "beta", "wrong-axes", {}),
    (lambda: sigmoid_case(SigmoidIgnoresDout), "x", "ignores-dout", {}),
    (lambda: relu_case(ReluIgnoresDout), "x", "ignores-dout", {}),
    (lambda: affine_case(AffineIgnoresDout), "x", "ignores-dout", {}),
    (lambda: sigmoid_case(SigmoidFromX), "x", "wrong-variable", {}),
    (lambda: sigmoid_case(SigmoidForgetsOneMinusY), "x", "wrong-variable", {}),
    (lambda: sigmoid_case(SigmoidPassesThrough), "x", "wrong-variable", {}),
    (lambda: relu_case(ReluMaskFromDout), "x", "wrong-variable", {}),
    (lambda: relu_case(ReluTimesOutput), "x", "wrong-variable", {}),
    (lambda: relu_case(ReluWritesDout), "layer", "writes-dout", {}),
    (lambda: sigmoid_case(SigmoidWritesDout), "layer", "writes-dout", {}),
    (lambda: batchnorm_case(BatchNormWritesDout), "layer", "writes-dout", {}),
    (lambda: relu_case(ReluInPlace), "layer", "writes-input", {}),
    (lambda: affine_case(AffineFreesInput), "layer", "writes-input", {}),
    (lambda: sigmoid_case(SigmoidConsumesOut), "layer", "writes-state", {}),
    (lambda: affine_case(AffineUpdatesInBackward), "layer", "writes-state", {}),
    (
        lambda: (DropoutRedraws(0.5, rng=0), (rng(4).standard_normal((4, 5)),), {"train_flg": True}),
        "layer",
        "random",
        {},
    ),
    (lambda: relu_case(GlobalRandomDropout), "layer", "random", {}),
    (lambda: batchnorm_case(BatchNormRunningInTraining), "layer", "stateful", {}),
    (lambda: sigmoid_case(SigmoidAnnealed), "layer", "stateful", {}),
    (kink_relu_case, "x", "kink", {}),
    (tied_pooling_case, "x", "kink", {}),
    (near_kink_relu_case, "x", "kink", {}),
    (all_zero_relu_case, "x", "kink", {}),
    (lambda: sigmoid_case(SigmoidFloat32), "x", "step-size", {}),
    (lambda: affine_case(AffineFloat32), "W", "step-size", {}),
    (lambda: sigmoid_case(Sigmoid), "x", "step-size", {"h": 0.3, "rtol": 1e-6}),
    (lambda: batchnorm_case(BatchNormForgetsTheMean), "x", "unrecognised", {}),
]


@pytest.mark.parametrize(
    "case, name, kind, options", CATALOGUE, ids=[f"{kind}-{i}" for i, (_, _, kind, _) in enumerate(CATALOGUE)]
)
def test_a_planted_mistake_is_named(case, name, kind, options):
    report = check(case(), **options)
    assert not report.passed
    kinds = {(d.name, d.kind) for d in report.diagnoses}
    assert (name, kind) in kinds, f"expected {name}: {kind}, got:\n{report}"
    failing = {c.name for c in report if not c.passed} | {"layer"}
    assert {d.name for d in report.diagnoses} <= failing  # nothing said about a gradient that is right
    for d in report.diagnoses:
        assert d.explanation and d.evidence and "\n" not in d.explanation
    assert f"why {name}:" in str(report)


def test_every_diagnosis_of_the_issue_is_in_the_catalogue():
    planted = {kind for _, _, kind, _ in CATALOGUE}
    assert planted >= {
        "times-batch-size",
        "divided-by-batch-size",
        "sign-flipped",
        "constant-factor",
        "transpose",
        "bias-not-summed",
        "bias-one-row",
        "wrong-axes",
        "permutation",
        "axes-order",
        "ignores-dout",
        "wrong-variable",
        "writes-dout",
        "writes-input",
        "random",
        "stateful",
        "kink",
        "step-size",
        "unrecognised",
    }


def test_the_issues_example_reads_as_promised():
    report = check(affine_case(AffineDWOverN))
    (why,) = report.diagnoses
    assert "× 1/5 everywhere" in why.explanation and "N = 5" in why.explanation
    assert "batch size is divided twice" in why.explanation
    assert "with one more sample (N = 6) it is 0.166667" in why.evidence


def test_a_factor_that_does_not_follow_the_batch_size_is_not_blamed_on_it():
    # N = 2 and a factor 2: the second batch size (3) tells the constant from the batch size
    report = check(affine_case(ConvDoubleDWLike, n=2))
    (why,) = report.diagnoses
    assert why.kind == "constant-factor" and "whatever the batch size" in why.explanation


class ConvDoubleDWLike(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = 2 * self.dW
        return dx


def test_unrecognised_gives_the_worst_elements_and_where_the_failing_ones_sit():
    class AffineOneRowWrong(Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.dW = self.dW.copy()
            self.dW[2] += 0.5
            return dx

    report = check(affine_case(AffineOneRowWrong))
    (why,) = report.diagnoses
    assert why.kind == "unrecognised"
    assert "3 of 12 elements fail, in rows 2, columns all" in why.explanation
    assert "worst: [2, " in why.evidence and "map (X fails): ... / ... / XXX / ..." in why.evidence


def test_fast_mode_explains_too():
    report = check(affine_case(AffineDWOverN), mode="fast")
    assert [(d.name, d.kind) for d in report.diagnoses] == [("W", "divided-by-batch-size")]


def test_without_explain_nothing_is_diagnosed_and_a_wrong_shape_still_raises():
    layer, inputs, _ = affine_case(AffineNegBias)
    assert check_layer(layer, *inputs).diagnoses == []
    layer, inputs, _ = affine_case(AffineDWTransposed)
    with pytest.raises(ValueError, match="shape"):
        check_layer(layer, *inputs)


# -- correct layers are never diagnosed ---------------------------------------------------------------------------


def correct_cases(dtype):
    r = rng(5)

    def a(*shape):
        return r.standard_normal(shape).astype(dtype)

    x = a(4, 5)

    def bn(d):
        return BatchNormalization(
            r.uniform(0.5, 1.5, d).astype(dtype),
            a(d),
            running_mean=a(d),
            running_var=r.uniform(0.5, 2.0, d).astype(dtype),
        )

    images = a(2, 2, 6, 5)
    return {
        "Relu": (Relu(), (np.where(np.abs(x) < 0.1, 0.5, x),), {}),
        "Sigmoid": (Sigmoid(), (x,), {}),
        "Affine": (Affine(a(5, 3), a(3)), (x,), {}),
        "Affine 4-D": (Affine(a(6, 3), a(3)), (a(4, 1, 2, 3),), {}),
        "SoftmaxWithLoss": (SoftmaxWithLoss(), (x, r.integers(0, 5, 4)), {}),
        "SoftmaxWithLoss one-hot": (SoftmaxWithLoss(), (x, np.eye(5)[r.integers(0, 5, 4)]), {}),
        "BatchNorm train": (bn(5), (a(4, 5),), {"train_flg": True}),
        "BatchNorm test": (bn(5), (x,), {"train_flg": False}),
        "Dropout train": (Dropout(0.5, rng=0), (x,), {"train_flg": True}),
        "Dropout test": (Dropout(0.5, rng=0), (x,), {"train_flg": False}),
        "Convolution": (Convolution(a(3, 2, 3, 2), a(3), stride=1, pad=1), (images,), {}),
        "Convolution s2": (Convolution(a(3, 2, 2, 3), a(3), stride=2), (images,), {}),
        "Pooling": (Pooling(2, 2, stride=2, pad=1), (images[:, :, :, :4],), {}),
        "Pooling 3x3": (Pooling(3, 3, stride=1, pad=1), (images,), {}),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_correct_layers_are_never_diagnosed(dtype):
    for label, (layer, inputs, kwargs) in correct_cases(dtype).items():
        report = check_layer(layer, *inputs, explain=True, **kwargs)
        assert report.passed and report.diagnoses == [], f"{label}:\n{report}"
        # the layer-level probes run on their own: none of them may fire on a correct layer
        layer64 = copy.deepcopy(layer)
        for name, value in list(vars(layer64).items()):
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                setattr(layer64, name, value.astype(np.float64))
        inputs64 = tuple(
            v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v for v in inputs
        )
        out = np.asarray(copy.deepcopy(layer64).forward(*inputs64, **kwargs))
        dout = 1.0 if out.ndim == 0 else rng(6).standard_normal(out.shape)
        probe = LayerProbe(layer64, inputs64, kwargs, dout, 1e-6, [("x", 0)])
        assert layer_slips(probe, dout_was_written=False) == [], label


def random_net(seed):
    """A small random correct Sequential: Affine blocks with Relu/Sigmoid, sometimes BatchNorm or Dropout."""
    r = rng(seed)
    widths = [int(w) for w in r.integers(2, 6, size=r.integers(1, 4))]
    d, classes = int(r.integers(2, 6)), int(r.integers(2, 5))
    layers, fan_in = [], d
    for w in widths:
        layers.append(Affine.new(fan_in, w, init=0.8, rng=r))
        layers[-1].b[:] = r.standard_normal(w)  # NOTE: zero biases put a dropped-out sample on ReLU's kink at 0
        if r.random() < 0.3:
            layers.append(BatchNormalization(w))
        layers.append(Sigmoid() if r.random() < 0.5 else Relu())
        if r.random() < 0.2:
            layers.append(Dropout(0.3, rng=int(r.integers(1000))))
        fan_in = w
    layers.append(Affine.new(fan_in, classes, init=0.8, rng=r))
    net = Sequential(*layers)
    while True:  # inputs that keep every ReLU off its kink (a dead layer before a BatchNorm puts it exactly on 0)
        x = r.standard_normal((int(r.integers(2, 6)), d))
        trace = []
        with net.masks_held():
            net.forward(x, True, trace=trace)
        layers_and_inputs = zip(net.layers.values(), [x, *trace], strict=False)
        relu_inputs = [z for layer, z in layers_and_inputs if isinstance(layer, Relu)]
        if all(np.min(np.abs(z)) > 1e-3 for z in relu_inputs):
            return net, x, r.integers(0, classes, len(x))


def test_200_random_correct_nets_are_never_diagnosed():
    failed = 0
    for seed in range(200):
        net, x, t = random_net(seed)
        report = check_net(net, x, t, explain=True)
        # a correct net can still fail the check itself (the finite differences' own error, in a BatchNorm over
        # near-equal samples): then no layer may be blamed, the explanation says it is the differences
        assert [d.kind for d in report.diagnoses] == ([] if report.passed else ["rounding"]), f"seed {seed}:\n{report}"
        failed += not report.passed
        # and the locating walk finds no layer to blame on a correct net
        net64 = net.astype(np.float64)
        with net64.masks_held():
            net64.gradient(x, t)
            assert locate_in_net(net64, x, t, True, []) is None, f"seed {seed}"
    assert failed <= 5  # the nets are mostly well-conditioned: the test is about diagnoses, not about luck


# -- nets: the layer a wrong gradient starts in -------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_net, replace, kind",
    [
        (lambda: TwoLayerNet(6, 5, 3, weight_init_std=0.5, rng=0), ("Relu1", ReluMaskFromDout()), "wrong-variable"),
        (lambda: MultiLayerNet(6, [5, 4], 3, activation="sigmoid", rng=0), ("Sigmoid2", SigmoidNeg()), "sign-flipped"),
        (
            lambda: MultiLayerNet(6, [5, 4], 3, activation="sigmoid", rng=0),
            ("Sigmoid1", SigmoidFromX()),
            "wrong-variable",
        ),
    ],
)
def test_check_net_names_the_layer_the_wrong_gradient_starts_in(make_net, replace, kind):
    r = rng(3)
    x, t = r.standard_normal((4, 6)), r.integers(0, 3, 4)
    net = make_net()
    name, layer = replace
    net.layers[name] = layer
    report = check_net(net, x, t, explain=True)
    assert not report.passed
    where, *why = report.diagnoses
    assert where.kind == "starts-in" and where.name == name
    assert f"starts in layer {name}" in where.explanation
    assert [(d.name, d.kind) for d in why] == [(f"{name}.x", kind)]


def test_check_net_names_a_layer_whose_parameter_gradient_is_wrong():
    r = rng(4)
    x, t = r.standard_normal((5, 6)), r.integers(0, 3, 5)
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, rng=0)
    net.layers["Affine2"] = AffineDWOverN(net.params["W2"], net.params["b2"])
    report = check_net(net, x, t, explain=True)
    where, *why = report.diagnoses
    assert where.name == "Affine2" and "W2" in where.explanation
    assert ("Affine2.W", "divided-by-batch-size") in {(d.name, d.kind) for d in why}


def test_check_net_names_a_wrong_loss_layer():
    r = rng(5)
    x, t = r.standard_normal((5, 6)), r.integers(0, 3, 5)
    net = Sequential(Affine.new(6, 4, rng=0), Relu(), Affine.new(4, 3, rng=1), loss=SoftmaxNoDivide())
    report = check_net(net, x, t, explain=True)
    where, *why = report.diagnoses
    assert where.name == "SoftmaxNoDivide" and "loss layer" in where.explanation
    assert [(d.name, d.kind) for d in why] == [("SoftmaxNoDivide.x", "times-batch-size")]


# -- zerograd gradcheck --explain and --layer FILE.py:CLASS ------------------------------------------------------

MY_LAYERS = """
import numpy as np


class MyAffine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout / len(dout)
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class MyRelu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class NoBackward:
    def forward(self, x):
        return x


class NeedsSize:
    def __init__(self, size):
        self.size = size

    def forward(self, x):
        return x

    def backward(self, dout):
        return dout
"""


@pytest.fixture
def my_layers(tmp_path, monkeypatch):
    (tmp_path / "my_layers.py").write_text(MY_LAYERS)
    (tmp_path / "broken.py").write_text("import numpy as np\nraise RuntimeError('half-written file')\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_gradcheck_layer_explains_a_users_planted_mistake(my_layers, capsys):
    from zerograd.cli import main

    assert main(["gradcheck", "--layer", "my_layers.py:MyAffine", "--explain"]) == 1
    out = capsys.readouterr().out
    assert "MyAffine from my_layers.py, inputs (4, 5)" in out
    assert "why W: W's backprop gradient is the numerical one × 1/4 everywhere" in out
    assert "with one more sample (N = 5) it is 0.2" in out
    assert main(["gradcheck", "--layer", "my_layers.py:MyAffine"]) == 1
    out = capsys.readouterr().out
    assert "why W" not in out and "add --explain" in out
    assert main(["gradcheck", "--layer", f"{my_layers / 'my_layers.py'}:MyRelu", "--explain"]) == 0
    assert "why" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "spec, message",
    [
        ("nothere.py:MyAffine", "--layer: no file 'nothere.py'"),
        (
            "my_layers.py:Nope",
            "--layer: my_layers.py has no class 'Nope' (its classes: MyAffine, MyRelu, NeedsSize, NoBackward)",
        ),
        ("my_layers.py:NoBackward", "--layer: class NoBackward has no backward method"),
        ("my_layers.py", "--layer must be FILE.py:CLASS"),
        ("my_layers.py:NeedsSize", "--layer: NeedsSize.__init__ needs size, which zerograd cannot guess"),
        ("broken.py:X", "--layer: running broken.py raised RuntimeError: half-written file"),
    ],
)
def test_gradcheck_layer_errors_are_one_line(my_layers, capsys, spec, message):
    from zerograd.cli import main

    assert main(["gradcheck", "--layer", spec, "--explain"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_gradcheck_explain_on_the_built_in_net_passes_quietly(capsys):
    from zerograd.cli import main

    assert main(["gradcheck", "--explain", "--hidden", "6", "--samples", "2"]) == 0
    out = capsys.readouterr().out
    assert "net: PASS" in out and "why" not in out


# -- the docs show what zerograd prints ----------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("doc", ["gradcheck.md", "gradcheck.ja.md"])
def test_the_docs_show_exactly_what_zerograd_prints(doc, tmp_path, monkeypatch, capsys):
    from zerograd.cli import main

    blocks = re.findall(r"```(\w+)\n(.*?)```", (DOCS / doc).read_text(encoding="utf-8"), re.S)
    monkeypatch.chdir(tmp_path)
    for lang, body in blocks:
        if lang == "python" and body.startswith("# my_layers.py"):
            (tmp_path / "my_layers.py").write_text(body)
    namespace: dict = {}
    checked = 0
    for (lang, body), (_, expected) in zip(blocks, blocks[1:] + [("", "")], strict=True):
        if lang == "python" and not body.startswith("# my_layers.py"):
            exec(compile(body, doc, "exec"), namespace)  # noqa: S102 (the doc's own example)
            assert capsys.readouterr().out == expected, f"{doc}: the output shown after this block differs"
            checked += 1
        elif lang == "console":
            command, _, shown = body.partition("\n")
            assert command.startswith("$ zerograd ")
            main(shlex.split(command)[2:])
            assert capsys.readouterr().out == shown, f"{doc}: the output of {command!r} differs"
            checked += 1
    assert checked == 3


# -- the graph page: a node whose own backward is wrong is marked -------------------------------------------------


def _mul_with_swapped_locals(x, y):
    """A multiplication node written by hand, each input getting its own value back instead of the other's."""
    from zerograd.graph.value import Value

    def backward(dout):
        return dout * x.data, dout * y.data  # the slip: ∂(x·y)/∂x is y, not x

    return Value(x.data * y.data, op="×", inputs=(x, y), backward=backward)


def test_the_graph_data_marks_a_node_with_a_wrong_local_derivative():
    from zerograd.graph.value import Value
    from zerograd.serve.graphdata import value_graph_data

    apple, num, tax = Value(100.0, name="apple"), Value(2.0, name="apple_num"), Value(1.1, name="tax")
    price = (_mul_with_swapped_locals(apple, num).named("apple_price") * tax).named("price")
    nodes = {n["display"]: n for n in value_graph_data(price)["nodes"]}
    assert [n for n, row in nodes.items() if "wrong" in row] == ["apple_price"]
    first, second = nodes["apple_price"]["wrong"]
    assert first["arg"] == 0 and first["explanation"] == (
        "apple_price's backward uses the value of apple where ∂(apple·apple_num)/∂apple = apple_num is needed"
    )
    assert first["evidence"] == "backward sends 100 per unit of gradient; the central difference gives 2"
    assert second["arg"] == 1 and "uses the value of apple_num" in second["explanation"]


@pytest.mark.parametrize(
    "text, values",
    [
        ("x*y + x", {"x": 2.0, "y": 3.0}),
        ("exp(x) / (1 + exp(x))", {"x": 0.7}),
        ("log(x*x + y) - y**3", {"x": 1.5, "y": 2.0}),
        ("sigmoid(x*y) * relu(x - y)", {"x": 3.0, "y": 1.0}),
        ("relu(x - y)", {"x": 1.0, "y": 1.0}),
        ("x**y", {"x": 2.0, "y": 0.5}),
        ("-x / y", {"x": 4.0, "y": -2.0}),
    ],
)
def test_the_graph_data_never_marks_zerograds_own_nodes(text, values):
    from zerograd.serve.graphs import SHOPPING, expression_data, graph_data

    for data in [expression_data(text, values), *(graph_data(name) for name in SHOPPING)]:
        assert not any("wrong" in n for n in data["nodes"]), data["title"]


class PlainNet:
    """A net of the book's shape without layers: params, loss and gradient, with dW2 off by the batch size."""

    def __init__(self):
        r = rng(7)
        self.params = {"W1": r.standard_normal((4, 3)), "W2": r.standard_normal((3, 2))}

    def loss(self, x, t):
        h = np.tanh(x @ self.params["W1"])
        return float(np.mean(np.sum((h @ self.params["W2"] - t) ** 2, axis=1)))

    def gradient(self, x, t):
        h = np.tanh(x @ self.params["W1"])
        dy = 2 * (h @ self.params["W2"] - t) / len(x)
        dh = dy @ self.params["W2"].T * (1 - h**2)
        return {"W1": x.T @ dh, "W2": h.T @ dy * len(x)}  # the slip: the / N undone


@pytest.mark.parametrize("mode", ["exhaustive", "fast"])
def test_a_net_without_layers_gets_each_failing_parameter_diagnosed(mode):
    r = rng(8)
    report = check_net(PlainNet(), r.standard_normal((5, 4)), r.standard_normal((5, 2)), mode=mode, explain=True)
    assert report["W1"].passed and not report["W2"].passed
    assert [(d.name, d.kind) for d in report.diagnoses] == [("W2", "times-batch-size")]
    assert "× 5 everywhere — N = 5 is the batch size" in report.diagnoses[0].explanation


def test_explain_in_fast_mode_handles_a_gradient_of_the_wrong_shape():
    report = check(affine_case(AffineDWTransposed), mode="fast")
    assert ("W", "transpose") in {(d.name, d.kind) for d in report.diagnoses}


class NetWithAWrongPenaltyGradient(TwoLayerNet):
    """Adds sum(b1²) to the loss, and 4·b1 (not 2·b1) to the gradient: the layers are right, the net is not."""

    def loss(self, x, t, train_flg=False):
        return super().loss(x, t, train_flg) + float(np.sum(self.params["b1"] ** 2))

    def gradient(self, x, t):
        grads = dict(super().gradient(x, t))
        grads["b1"] = grads["b1"] + 4 * self.params["b1"]
        return grads


def test_a_wrong_gradient_outside_the_layers_is_not_blamed_on_a_layer():
    r = rng(9)
    net = NetWithAWrongPenaltyGradient(5, 4, 3, weight_init_std=0.5, rng=9)
    net.params["b1"][:] = r.standard_normal(4)
    report = check_net(net, r.standard_normal((4, 5)), r.integers(0, 3, 4), explain=True)
    assert not report["b1"].passed and report["W1"].passed
    kinds = [(d.name, d.kind) for d in report.diagnoses]
    assert kinds[0] == ("net", "outside-layers") and kinds[1][0] == "b1"
    assert "starts-in" not in {kind for _, kind in kinds}
