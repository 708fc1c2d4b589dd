# SimpleConvNet trained through the book's Trainer with Adam, the way the book's ch07/train_convnet.py does it
# (fewer images and epochs, so that the test suite stays quick), then its parameters saved for visualize_filter.py.
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from common.trainer import Trainer  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402
from simple_convnet import SimpleConvNet  # noqa: E402

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
x_train, t_train = x_train[:1000], t_train[:1000]
x_test, t_test = x_test[:500], t_test[:500]

max_epochs = 4

network = SimpleConvNet(
    input_dim=(1, 28, 28),
    conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
    hidden_size=100,
    output_size=10,
    weight_init_std=0.01,
)

trainer = Trainer(
    network,
    x_train,
    t_train,
    x_test,
    t_test,
    epochs=max_epochs,
    mini_batch_size=100,
    optimizer="Adam",
    optimizer_param={"lr": 0.001},
    evaluate_sample_num_per_epoch=200,
    verbose=False,
)
trainer.train()

network.save_params("params.pkl")
print("Saved Network Parameters!")
print("train:" + str(trainer.train_acc_list[-1]))
print("test:" + str(trainer.test_acc_list[-1]))
print("epochs:" + str(len(trainer.test_acc_list)))
