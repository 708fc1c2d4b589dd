# Weight decay through the book's Trainer, the way ch06's scripts drive it (fewer epochs and samples).
import os
import sys

sys.path.append(os.pardir)
import numpy as np

from common.multi_layer_net import MultiLayerNet
from common.trainer import Trainer
from dataset.mnist import load_mnist

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
x_train = x_train[:300]
t_train = t_train[:300]

network = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100], output_size=10, weight_decay_lambda=0.1)
trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=30, mini_batch_size=100,
                  optimizer="sgd", optimizer_param={"lr": 0.01}, verbose=False)
trainer.train()
print("train:" + str(trainer.train_acc_list[-1]))
print("test:" + str(trainer.test_acc_list[-1]))
print("epochs:" + str(len(trainer.test_acc_list)))
