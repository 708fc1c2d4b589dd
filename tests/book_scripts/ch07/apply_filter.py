# The first 16 trained filters applied to a grey image (figure 7-25), as the book's ch07/apply_filter.py applies
# them: Convolution(w, b) of common.layers on an image read with matplotlib's imread. The book reads
# ../dataset/lena_gray.png; here the grey image is a test digit, written to digit_gray.png and read back.
# Run train_convnet.py first (it writes params.pkl).
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from common.layers import Convolution  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402
from matplotlib.image import imread  # noqa: E402
from PIL import Image  # noqa: E402
from simple_convnet import SimpleConvNet  # noqa: E402


def filter_show(filters, nx=4, show_num=16):
    FN, C, FH, FW = filters.shape  # noqa: N806
    ny = int(np.ceil(show_num / nx))
    fig = plt.figure()
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1, hspace=0.05, wspace=0.05)
    for i in range(show_num):
        ax = fig.add_subplot(ny, nx, i + 1, xticks=[], yticks=[])
        ax.imshow(filters[i, 0], cmap=plt.cm.gray_r, interpolation="nearest")


network = SimpleConvNet(
    input_dim=(1, 28, 28),
    conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
    hidden_size=100,
    output_size=10,
    weight_init_std=0.01,
)

network.load_params("params.pkl")

filter_show(network.params["W1"], 16)

(_, _), (x_test, _) = load_mnist(flatten=False, normalize=False)
Image.fromarray(x_test[0, 0]).resize((112, 112)).save("digit_gray.png")
img = imread("digit_gray.png")  # (H, W) floats in [0, 1]
img = img.reshape(1, 1, *img.shape)

fig = plt.figure()
responses = []
for i in range(16):
    w = network.params["W1"][i]
    b = 0  # network.params['b1'][i]

    w = w.reshape(1, *w.shape)
    conv_layer = Convolution(w, b)
    out = conv_layer.forward(img)
    out = out.reshape(out.shape[2], out.shape[3])
    responses.append(out)

    ax = fig.add_subplot(4, 4, i + 1, xticks=[], yticks=[])
    ax.imshow(out, cmap=plt.cm.gray_r, interpolation="nearest")
plt.show()
print("filters:" + str(len(responses)))
print("height:" + str(responses[0].shape[0]))
# filter 0 on the image, by hand: out[y, x] = sum over the 5x5 window of image * filter
w0, window = network.params["W1"][0, 0], img[0, 0, 40:45, 50:55]
print("by_hand:" + repr(float(abs(responses[0][40, 50] - np.sum(window * w0)))))
