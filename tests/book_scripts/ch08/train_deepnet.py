# DeepConvNet trained through the book's Trainer with Adam, the way the book's ch08/train_deepnet.py does it
# (a few hundred images and one epoch, so that the test suite stays quick).
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from common.trainer import Trainer  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402
from deep_convnet import DeepConvNet  # noqa: E402

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
x_train, t_train = x_train[:300], t_train[:300]
x_test, t_test = x_test[:200], t_test[:200]

network = DeepConvNet()
trainer = Trainer(network, x_train, t_train, x_test, t_test,
                  epochs=2, mini_batch_size=100,
                  optimizer="Adam", optimizer_param={"lr": 0.001},
                  evaluate_sample_num_per_epoch=100, verbose=False)
trainer.train()

network.save_params("deep_convnet_params.pkl")
print("Saved Network Parameters!")
print("loss_first:" + str(trainer.train_loss_list[0]))
print("loss_last:" + str(trainer.train_loss_list[-1]))
print("test:" + str(trainer.test_acc_list[-1]))
