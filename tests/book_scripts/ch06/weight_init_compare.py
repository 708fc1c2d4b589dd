# Three weight initialisations compared on MNIST (figure 6-15), as the book's ch06/weight_init_compare.py compares
# them (60 iterations instead of 2,000, so the test suite stays quick).
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from common.multi_layer_net import MultiLayerNet  # noqa: E402
from common.optimizer import SGD  # noqa: E402
from common.util import smooth_curve  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable

train_size = x_train.shape[0]
batch_size = 128
max_iterations = 60

weight_init_types = {"std=0.01": 0.01, "Xavier": "sigmoid", "He": "relu"}
optimizer = SGD(lr=0.01)

networks = {}
train_loss = {}
for key, weight_type in weight_init_types.items():
    networks[key] = MultiLayerNet(
        input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10, weight_init_std=weight_type
    )
    train_loss[key] = []

for i in range(max_iterations):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]

    for key in weight_init_types.keys():
        grads = networks[key].gradient(x_batch, t_batch)
        optimizer.update(networks[key].params, grads)
        loss = networks[key].loss(x_batch, t_batch)
        train_loss[key].append(loss)

    if i % 100 == 0:
        print("=========== iteration " + str(i) + " ===========")
        for key in weight_init_types.keys():
            print(key + " " + str(networks[key].loss(x_batch, t_batch)))

markers = {"std=0.01": "o", "Xavier": "s", "He": "D"}
x = np.arange(max_iterations)
for key in weight_init_types.keys():
    plt.plot(x, smooth_curve(train_loss[key]), marker=markers[key], markevery=100, label=key)
plt.xlabel("iterations")
plt.ylabel("loss")
plt.ylim(0, 2.5)
plt.legend()
plt.show()
for key, name in (("std=0.01", "small"), ("Xavier", "xavier"), ("He", "he")):
    print(name + ":" + str(float(np.mean(train_loss[key][-20:]))))
