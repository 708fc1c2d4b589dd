# Four optimizers on the same five-layer net, compared the way the book's ch06/optimizer_compare_mnist.py does
# (fewer iterations, so that the test suite stays quick). Like the book's script it never imports numpy itself:
# `np` arrives through `from common.optimizer import *`, as the book's common/optimizer.py leaks it.
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pyplot as plt

from common.multi_layer_net import MultiLayerNet
from common.optimizer import *
from common.util import smooth_curve
from dataset.mnist import load_mnist

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
train_size = x_train.shape[0]
batch_size = 128
max_iterations = 300

np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
optimizers = {}
optimizers["SGD"] = SGD()
optimizers["Momentum"] = Momentum()
optimizers["AdaGrad"] = AdaGrad()
optimizers["Adam"] = Adam()

networks = {}
train_loss = {}
for key in optimizers.keys():
    networks[key] = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10)
    train_loss[key] = []

for i in range(max_iterations):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]
    for key in optimizers.keys():
        grads = networks[key].gradient(x_batch, t_batch)
        optimizers[key].update(networks[key].params, grads)
        loss = networks[key].loss(x_batch, t_batch)
        train_loss[key].append(loss)

for key in optimizers.keys():
    smoothed = smooth_curve(train_loss[key])
    print(key + ":" + str(smoothed[0]) + ":" + str(smoothed[-1]))

x = np.arange(max_iterations)
for key in optimizers.keys():
    plt.plot(x, smooth_curve(train_loss[key]), markevery=100, label=key)
plt.xlabel("iterations")
plt.ylabel("loss")
plt.legend()
plt.show()
