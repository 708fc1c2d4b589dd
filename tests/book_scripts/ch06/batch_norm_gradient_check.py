# Backprop against numerical gradients for a net with batch normalization, as the book's
# ch06/batch_norm_gradient_check.py checks it: one digit, one-hot labels, the mean |difference| per parameter.
import os
import sys

sys.path.append(os.pardir)
import numpy as np

from common.multi_layer_net_extend import MultiLayerNetExtend
from dataset.mnist import load_mnist

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable

network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100], output_size=10, use_batchnorm=True)
x_batch = x_train[:1]
t_batch = t_train[:1]

grad_backprop = network.gradient(x_batch, t_batch)
grad_numerical = network.numerical_gradient(x_batch, t_batch)
for key in grad_numerical.keys():
    diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
    print(key + ":" + str(diff))
