# Accuracy of DeepConvNet with its parameters and inputs rounded to float16, as the book's
# ch08/half_float_network.py measures it. Run train_deepnet.py first (it writes deep_convnet_params.pkl).
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402
from deep_convnet import DeepConvNet  # noqa: E402

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)

network = DeepConvNet()
network.load_params("deep_convnet_params.pkl")

sampled = 200  # the book: 10,000, "for speed"
x_test = x_test[:sampled]
t_test = t_test[:sampled]

print("calculate accuracy (float64) ... ")
acc64 = network.accuracy(x_test, t_test)
print("float64:" + str(acc64))

# rounded to float16, in place: the net's layers hold these very arrays
x_test = x_test.astype(np.float16)
for param in network.params.values():
    param[...] = param.astype(np.float16)

print("calculate accuracy (float16) ... ")
acc16 = network.accuracy(x_test, t_test)
print("float16:" + str(acc16))
print("rounded:" + str(int(all(np.array_equal(p, p.astype(np.float16)) for p in network.params.values()))))
