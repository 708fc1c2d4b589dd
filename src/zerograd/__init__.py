"""zerograd: backpropagation from scratch in NumPy, as chapter 5 of "Deep Learning from Scratch" teaches it."""

from .functions import cross_entropy_error, relu, sigmoid, softmax, softmax_cross_entropy
from .gradcheck import GradCheckReport, check_layer, check_net, numerical_gradient
from .layers import AddLayer, Affine, Layer, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from .nets import MultiLayerNet, TwoLayerNet
from .convolution import Convolution, Pooling  # noqa: I001 (registers the layers for checkpoints)
from .convnets import DeepConvNet, SimpleConvNet  # registers the nets, so checkpoints of them load

__version__ = "0.1.0"

__all__ = [
    "Affine", "AddLayer", "GradCheckReport", "Layer", "MulLayer", "MultiLayerNet", "Relu", "Sigmoid",
    "SoftmaxWithLoss", "TwoLayerNet", "Convolution", "Pooling", "SimpleConvNet", "DeepConvNet", "check_layer", "check_net", "cross_entropy_error", "numerical_gradient",
    "relu", "sigmoid", "softmax", "softmax_cross_entropy",
]
