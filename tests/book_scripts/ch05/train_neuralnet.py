# The chapter's mini-batch training loop, run the way the book's ch05/train_neuralnet.py runs it
# (fewer iterations, so that the test suite stays quick).
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402
from two_layer_net import TwoLayerNet  # noqa: E402

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

iters_num = 2000
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.1

train_loss_list = []
train_acc_list = []
test_acc_list = []
iter_per_epoch = max(train_size / batch_size, 1)

for i in range(iters_num):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]

    grad = network.gradient(x_batch, t_batch)
    for key in ("W1", "b1", "W2", "b2"):
        network.params[key] -= learning_rate * grad[key]

    loss = network.loss(x_batch, t_batch)
    train_loss_list.append(loss)

    if i % iter_per_epoch == 0:
        train_acc = network.accuracy(x_train, t_train)
        test_acc = network.accuracy(x_test, t_test)
        train_acc_list.append(train_acc)
        test_acc_list.append(test_acc)
        print(train_acc, test_acc)

print("final", network.accuracy(x_train, t_train), network.accuracy(x_test, t_test))
