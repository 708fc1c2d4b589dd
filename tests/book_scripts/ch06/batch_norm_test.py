# Batch normalization against none at several initial weight scales, the way the book's ch06/batch_norm_test.py
# trains them: 1,000 digits, SGD lr 0.01, the book's own loop with np.random.choice batches. (Two weight scales
# instead of the book's sixteen and 10 epochs instead of 20, so that the test suite stays quick.)
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pyplot as plt
import numpy as np

from common.multi_layer_net_extend import MultiLayerNetExtend
from common.optimizer import SGD
from dataset.mnist import load_mnist

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
x_train = x_train[:1000]
t_train = t_train[:1000]

max_epochs = 10
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.01


def __train(weight_init_std):
    bn_network = MultiLayerNetExtend(
        input_size=784,
        hidden_size_list=[100, 100, 100, 100, 100],
        output_size=10,
        weight_init_std=weight_init_std,
        use_batchnorm=True,
    )
    network = MultiLayerNetExtend(
        input_size=784, hidden_size_list=[100, 100, 100, 100, 100], output_size=10, weight_init_std=weight_init_std
    )
    optimizer = SGD(lr=learning_rate)
    train_acc_list, bn_train_acc_list = [], []
    iter_per_epoch = max(train_size / batch_size, 1)
    epoch_cnt = 0
    for i in range(1000000000):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        for _network in (bn_network, network):
            grads = _network.gradient(x_batch, t_batch)
            optimizer.update(_network.params, grads)
        if i % iter_per_epoch == 0:
            train_acc_list.append(network.accuracy(x_train, t_train))
            bn_train_acc_list.append(bn_network.accuracy(x_train, t_train))
            epoch_cnt += 1
            if epoch_cnt >= max_epochs:
                break
    return train_acc_list, bn_train_acc_list


weight_scale_list = np.logspace(-1, -3, num=2)
x = np.arange(max_epochs)
for i, w in enumerate(weight_scale_list):
    train_acc_list, bn_train_acc_list = __train(w)
    print("W:" + str(w) + ":" + str(train_acc_list[-1]) + ":" + str(bn_train_acc_list[-1]))
    plt.subplot(1, 2, i + 1)
    plt.title("W:" + str(w))
    plt.plot(x, bn_train_acc_list, label="Batch Normalization", markevery=2)
    plt.plot(x, train_acc_list, linestyle="--", label="Normal(without BatchNorm)", markevery=2)
    plt.ylim(0, 1.0)
    plt.legend(loc="lower right")
plt.show()
