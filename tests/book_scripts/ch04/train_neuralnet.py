# Chapter 4's mini-batch training of the two-layer net, as the book's ch04/train_neuralnet.py runs it (600
# iterations instead of 10,000, so the test suite stays quick), with a check of gradient against
# numerical_gradient on three digits first.
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402
from two_layer_net import TwoLayerNet  # noqa: E402

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable

network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

small = TwoLayerNet(input_size=784, hidden_size=5, output_size=10)
grad_numerical = small.numerical_gradient(x_train[:3], t_train[:3])
grad_backprop = small.gradient(x_train[:3], t_train[:3])
for key in ("W1", "b1", "W2", "b2"):
    print("check_" + key + ":" + str(np.abs(grad_backprop[key] - grad_numerical[key]).mean()))

iters_num = 600
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
        print("train acc, test acc | " + str(train_acc) + ", " + str(test_acc))

x = np.arange(len(train_acc_list))
plt.plot(x, train_acc_list, label="train acc")
plt.plot(x, test_acc_list, label="test acc", linestyle="--")
plt.xlabel("epochs")
plt.ylabel("accuracy")
plt.ylim(0, 1.0)
plt.legend(loc="lower right")
plt.show()
print("loss_first:" + str(train_loss_list[0]))
print("loss_last:" + str(train_loss_list[-1]))
print("train:" + str(train_acc_list[-1]))
print("test:" + str(test_acc_list[-1]))
print("epochs:" + str(len(train_acc_list)))
