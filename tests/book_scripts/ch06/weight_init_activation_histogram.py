# Histograms of five sigmoid layers' activations with weights of standard deviation 1 (figure 6-10), as the book's
# ch06/weight_init_activation_histogram.py draws them: the activations pile up at 0 and 1.
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from common.functions import relu, sigmoid  # noqa: E402,F401


def ReLU(x):  # noqa: N802 (the book's name)
    return relu(x)


def tanh(x):
    return np.tanh(x)


np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
input_data = np.random.randn(1000, 100)  # 1000 samples
node_num = 100  # nodes per hidden layer
hidden_layer_size = 5  # five hidden layers
activations = {}

x = input_data
for i in range(hidden_layer_size):
    if i != 0:
        x = activations[i - 1]
    w = np.random.randn(node_num, node_num) * 1  # try * 0.01, or np.sqrt(1.0 / node_num) (Xavier)
    a = np.dot(x, w)
    z = sigmoid(a)  # try ReLU(a) or tanh(a)
    activations[i] = z

for i, a in activations.items():
    plt.subplot(1, len(activations), i + 1)
    plt.title(str(i + 1) + "-layer")
    if i != 0:
        plt.yticks([], [])
    plt.hist(a.flatten(), 30, range=(0, 1))
    print("layer" + str(i + 1) + "_saturated:" + str(float(np.mean((a < 0.1) | (a > 0.9)))))
plt.show()
