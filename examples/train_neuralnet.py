"""Chapter 5.7.4: training the two-layer net with backpropagation, as the book's loop does it.

Each iteration draws a mini-batch of 100 training images, computes the gradient by backpropagation
(``net.gradient``), and moves every parameter a small step against it. Once per epoch (one pass's worth of
iterations) it prints the accuracy on the training and test sets: the two stay close, so the net is not
overfitting.

Run: python examples/train_neuralnet.py [mnist | fashion-mnist | mnist-sample]
(``zerograd train`` is this loop with checkpoints, plots and options.)
"""

import sys

import numpy as np

from zerograd.datasets import load_dataset
from zerograd.nets import TwoLayerNet

dataset = sys.argv[1] if len(sys.argv) > 1 else "mnist"
(x_train, t_train), (x_test, t_test) = load_dataset(dataset, dtype=np.float32)

net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, dtype=np.float32, rng=0)
rng = np.random.default_rng(0)

iters_num = 10000  # 10,000 updates of 100 images: about 17 passes over MNIST's 60,000
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.1
iter_per_epoch = max(train_size // batch_size, 1)

train_loss_list = []
for i in range(iters_num):
    batch_mask = rng.choice(train_size, batch_size)  # x: (100, 784), t: (100,) integer labels
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]

    grad = net.gradient(x_batch, t_batch)  # backpropagation: one forward and one backward pass

    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= learning_rate * grad[key]  # in place: the layers hold these very arrays

    train_loss_list.append(net.last_layer.loss)  # the batch's loss, kept by the last layer during gradient()

    if i % iter_per_epoch == 0:
        train_acc = net.accuracy(x_train, t_train, batch_size=1000)
        test_acc = net.accuracy(x_test, t_test, batch_size=1000)
        print(
            f"epoch {i // iter_per_epoch:>2}: loss {np.mean(train_loss_list[-iter_per_epoch:]):.4f}  "
            f"train acc {train_acc:.4f}  test acc {test_acc:.4f}"
        )

print(f"final test accuracy {net.accuracy(x_test, t_test, batch_size=1000):.4f}")
