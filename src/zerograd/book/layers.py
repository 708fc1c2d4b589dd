"""The book's ``common/layers.py`` names: the chapter-5 layers, with the book's slips fixed.

Same constructors, methods and attributes as the book (``Affine(W, b)`` with ``dW``/``db``, ``Relu.mask``,
``Sigmoid.out``, ``SoftmaxWithLoss.loss/y/t``), but ``backward`` never writes into ``dout``, dtypes are kept, and
``SoftmaxWithLoss`` computes its loss exactly from the logits (no ``1e-7``).
"""

from ..layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss

__all__ = ["Affine", "AddLayer", "MulLayer", "Relu", "Sigmoid", "SoftmaxWithLoss"]
