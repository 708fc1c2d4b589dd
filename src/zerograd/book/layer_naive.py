"""The book's ``layer_naive`` module: the multiplication and addition nodes of the shopping examples."""

from ..layers import AddLayer, MulLayer

__all__ = ["AddLayer", "MulLayer"]
