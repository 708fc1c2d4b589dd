# The chapter's gradient check, run the way the book's ch05/gradient_check.py runs it.
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402
from two_layer_net import TwoLayerNet  # noqa: E402

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

x_batch = x_train[:3]
t_batch = t_train[:3]

grad_numerical = network.numerical_gradient(x_batch, t_batch)
grad_backprop = network.gradient(x_batch, t_batch)

for key in grad_numerical.keys():
    diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
    print(key + ":" + str(diff))
