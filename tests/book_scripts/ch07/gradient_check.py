# Chapter 7's gradient check of SimpleConvNet on one random 10x10 image, run the way the book's
# ch07/gradient_check.py runs it: labels T of shape (1, 1).
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from simple_convnet import SimpleConvNet  # noqa: E402

np.random.seed(7)  # the book leaves it unseeded; see docs/book-scripts.md for why a test picks a seed
network = SimpleConvNet(
    input_dim=(1, 10, 10),
    conv_param={"filter_num": 10, "filter_size": 3, "pad": 0, "stride": 1},
    hidden_size=10,
    output_size=10,
    weight_init_std=0.01,
)

X = np.random.rand(100).reshape((1, 1, 10, 10))
T = np.array([1]).reshape((1, 1))

grad_num = network.numerical_gradient(X, T)
grad = network.gradient(X, T)

for key, val in grad_num.items():
    print(key + ":" + str(np.abs(grad_num[key] - grad[key]).mean()))
