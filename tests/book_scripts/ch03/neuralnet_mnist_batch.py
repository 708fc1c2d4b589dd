# The same inference in batches of 100, as the book's ch03/neuralnet_mnist_batch.py does it (weights from
# sample_weight.npz instead of the book's pickle, see neuralnet_mnist.py).
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from common.functions import sigmoid, softmax  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402


def get_data():
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True, one_hot_label=False)
    return x_test, t_test


def init_network():
    with np.load("sample_weight.npz") as f:
        return {key: f[key] for key in f.files}


def predict(network, x):
    w1, w2, w3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    z1 = sigmoid(np.dot(x, w1) + b1)
    z2 = sigmoid(np.dot(z1, w2) + b2)
    return softmax(np.dot(z2, w3) + b3)


x, t = get_data()
network = init_network()

batch_size = 100
accuracy_cnt = 0
for i in range(0, len(x), batch_size):
    x_batch = x[i : i + batch_size]
    y_batch = predict(network, x_batch)
    p = np.argmax(y_batch, axis=1)
    accuracy_cnt += np.sum(p == t[i : i + batch_size])

print("Accuracy:" + str(float(accuracy_cnt) / len(x)))
