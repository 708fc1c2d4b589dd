# Inference with a trained three-layer net, one digit at a time, as the book's ch03/neuralnet_mnist.py does it.
# The book unpickles sample_weight.pkl; here init_network reads the same dict (W1, b1, ..., W3, b3) from
# sample_weight.npz without pickle (tests/test_book_scripts.py writes it from a briefly trained MultiLayerNet).
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
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    z1 = sigmoid(np.dot(x, W1) + b1)
    z2 = sigmoid(np.dot(z1, W2) + b2)
    return softmax(np.dot(z2, W3) + b3)


x, t = get_data()
network = init_network()
accuracy_cnt = 0
for i in range(len(x)):
    y = predict(network, x[i])
    p = np.argmax(y)
    if p == t[i]:
        accuracy_cnt += 1

print("Accuracy:" + str(float(accuracy_cnt) / len(x)))
