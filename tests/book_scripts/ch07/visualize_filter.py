# The first layer's filters before and after training (figure 7-24), the way the book's ch07/visualize_filter.py
# draws them; run train_convnet.py first (it writes params.pkl).
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from simple_convnet import SimpleConvNet  # noqa: E402


def filter_show(filters, nx=8, margin=3, scale=10):
    FN, C, FH, FW = filters.shape
    ny = int(np.ceil(FN / nx))

    fig = plt.figure()
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1, hspace=0.05, wspace=0.05)

    for i in range(FN):
        ax = fig.add_subplot(ny, nx, i + 1, xticks=[], yticks=[])
        ax.imshow(filters[i, 0], cmap=plt.cm.gray_r, interpolation="nearest")
    plt.show()
    return fig


np.random.seed(0)
network = SimpleConvNet()
before = network.params["W1"].copy()
filter_show(network.params["W1"])

network.load_params("params.pkl")
fig = filter_show(network.params["W1"])
fig.savefig("filters_after.png")
print("filters:" + str(network.params["W1"].shape[0]))
print("changed:" + str(float(np.abs(network.params["W1"] - before).mean())))
