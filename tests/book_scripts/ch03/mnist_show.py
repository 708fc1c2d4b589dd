# The first training digit shown as an image, as the book's ch03/mnist_show.py shows it (PIL).
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402
from PIL import Image  # noqa: E402


def img_show(img):
    pil_img = Image.fromarray(np.uint8(img))
    pil_img.show()  # opens the system's image viewer, if it has one
    return pil_img


(x_train, t_train), (x_test, t_test) = load_mnist(flatten=True, normalize=False)

img = x_train[0]
label = t_train[0]
print("label:" + str(label))
print(img.shape)
img = img.reshape(28, 28)
print(img.shape)
shown = img_show(img)
print("size:" + "x".join(str(n) for n in shown.size))
print("ink:" + str(int(np.asarray(shown).sum())))
