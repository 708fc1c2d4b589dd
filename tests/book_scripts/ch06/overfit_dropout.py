# Dropout against overfitting on 300 digits, through the book's Trainer, as the book's ch06/overfit_dropout.py
# runs it (101 epochs instead of 301, so that the test suite stays quick).
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pyplot as plt
import numpy as np

from common.multi_layer_net_extend import MultiLayerNetExtend
from common.trainer import Trainer
from dataset.mnist import load_mnist

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
x_train = x_train[:300]
t_train = t_train[:300]

use_dropout = True
dropout_ratio = 0.2
network = MultiLayerNetExtend(
    input_size=784,
    hidden_size_list=[100, 100, 100, 100, 100, 100],
    output_size=10,
    use_dropout=use_dropout,
    dropout_ration=dropout_ratio,
)
trainer = Trainer(
    network,
    x_train,
    t_train,
    x_test,
    t_test,
    epochs=101,
    mini_batch_size=100,
    optimizer="sgd",
    optimizer_param={"lr": 0.01},
    verbose=False,
)
trainer.train()

train_acc_list, test_acc_list = trainer.train_acc_list, trainer.test_acc_list
x = np.arange(len(train_acc_list))
plt.plot(x, train_acc_list, marker="o", label="train", markevery=10)
plt.plot(x, test_acc_list, marker="s", label="test", markevery=10)
plt.legend(loc="lower right")
plt.show()
print("train:" + str(train_acc_list[-1]))
print("test:" + str(test_acc_list[-1]))
print("epochs:" + str(len(test_acc_list)))
