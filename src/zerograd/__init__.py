"""zerograd: backpropagation from scratch in NumPy, as chapter 5 of "Deep Learning from Scratch" teaches it."""

from .functions import cross_entropy_error, relu, sigmoid, softmax, softmax_cross_entropy
from .gradcheck import GradCheckReport, check_layer, check_net, numerical_gradient
from .layers import (
    AddLayer,
    Affine,
    BatchNormalization,
    Dropout,
    Layer,
    MulLayer,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
)
from .nets import MultiLayerNet, MultiLayerNetExtend, Sequential, TwoLayerNet

__version__ = "0.1.0"

__all__ = [
    "Affine", "AddLayer", "BatchNormalization", "Dropout", "GradCheckReport", "Layer", "MulLayer", "MultiLayerNet",
    "MultiLayerNetExtend", "Relu", "Sequential", "Sigmoid", "SoftmaxWithLoss", "TwoLayerNet", "check_layer",
    "check_net", "cross_entropy_error", "numerical_gradient", "relu", "sigmoid", "softmax", "softmax_cross_entropy",
]
