"""zerograd: backpropagation from scratch in NumPy, as chapter 5 of "Deep Learning from Scratch" teaches it."""

# importing convnets registers SimpleConvNet and DeepConvNet (and convolution its layers), so checkpoints load
from .convnets import DeepConvNet, SimpleConvNet
from .convolution import Convolution, Pooling
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
    "Affine",
    "AddLayer",
    "BatchNormalization",
    "Dropout",
    "GradCheckReport",
    "Layer",
    "MulLayer",
    "MultiLayerNet",
    "MultiLayerNetExtend",
    "Relu",
    "Sequential",
    "Sigmoid",
    "SoftmaxWithLoss",
    "TwoLayerNet",
    "check_layer",
    "check_net",
    "cross_entropy_error",
    "numerical_gradient",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "Convolution",
    "DeepConvNet",
    "Pooling",
    "SimpleConvNet",  # chapters 7 and 8
]
