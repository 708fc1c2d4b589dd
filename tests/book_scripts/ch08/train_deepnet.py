# DeepConvNet trained through the book's Trainer with Adam and saved with save_params, as the book's
# ch08/train_deepnet.py trains it, scaled down: 2,000 digits, batches of 20, 300 steps (the book: 60,000 digits,
# batches of 100, 20 epochs, hours). Then the saved parameters are loaded into a fresh net, which must predict
# exactly what the trained one does (the book loads them in half_float_network.py and misclassified_mnist.py).
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from common.trainer import Trainer  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402
from deep_convnet import DeepConvNet  # noqa: E402

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
x_train, t_train = x_train[:2000], t_train[:2000]
x_test, t_test = x_test[:500], t_test[:500]

network = DeepConvNet()
trainer = Trainer(
    network,
    x_train,
    t_train,
    x_test,
    t_test,
    epochs=3,
    mini_batch_size=20,
    optimizer="Adam",
    optimizer_param={"lr": 0.001},
    evaluate_sample_num_per_epoch=200,
    verbose=False,
)
trainer.train()

network.save_params("deep_convnet_params.pkl")
print("Saved Network Parameters!")

reloaded = DeepConvNet()
reloaded.load_params("deep_convnet_params.pkl")
y, y_reloaded = network.predict(x_test[:100]), reloaded.predict(x_test[:100])

losses = trainer.train_loss_list
print("steps:" + str(len(losses)))
print("loss_first:" + str(float(np.mean(losses[:20]))))
print("loss_last:" + str(float(np.mean(losses[-20:]))))
print("train:" + str(trainer.train_acc_list[-1]))
print("test:" + str(network.accuracy(x_test, t_test)))
print("reloaded_test:" + str(reloaded.accuracy(x_test, t_test)))
print("reloaded_max_diff:" + repr(float(np.abs(y - y_reloaded).max())))
