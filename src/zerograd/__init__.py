"""zerograd: backpropagation from scratch in NumPy, as chapter 5 of "Deep Learning from Scratch" teaches it."""

from .functions import cross_entropy_error, relu, sigmoid, softmax, softmax_cross_entropy
from .gradcheck import GradCheckReport, check_layer, check_net, numerical_gradient
from .layers import AddLayer, Affine, Layer, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from .nets import MultiLayerNet, TwoLayerNet

__version__ = "0.1.0"

__all__ = [
    "Affine", "AddLayer", "GradCheckReport", "Layer", "MulLayer", "MultiLayerNet", "Relu", "Sigmoid",
    "SoftmaxWithLoss", "TwoLayerNet", "check_layer", "check_net", "cross_entropy_error", "numerical_gradient",
    "relu", "sigmoid", "softmax", "softmax_cross_entropy",
]
