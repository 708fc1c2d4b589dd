# Random search over the learning rate and the weight decay on a held-out validation set, as the book's
# ch06/hyperparameter_optimization.py searches (8 trials of 20 epochs instead of 100 of 50, so the test suite stays
# quick). The validation size is an int, as the repository's commit 333aadc (2018-06-03) made it.
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from common.multi_layer_net import MultiLayerNet  # noqa: E402
from common.trainer import Trainer  # noqa: E402
from common.util import shuffle_dataset  # noqa: E402
from dataset.mnist import load_mnist  # noqa: E402

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable

x_train = x_train[:500]
t_train = t_train[:500]

validation_rate = 0.20
validation_num = int(x_train.shape[0] * validation_rate)
x_train, t_train = shuffle_dataset(x_train, t_train)
x_val = x_train[:validation_num]
t_val = t_train[:validation_num]
x_train = x_train[validation_num:]
t_train = t_train[validation_num:]


def __train(lr, weight_decay, epocs=20):  # the book's spelling of "epochs"
    network = MultiLayerNet(
        input_size=784,
        hidden_size_list=[100, 100, 100, 100, 100, 100],
        output_size=10,
        weight_decay_lambda=weight_decay,
    )
    trainer = Trainer(
        network,
        x_train,
        t_train,
        x_val,
        t_val,
        epochs=epocs,
        mini_batch_size=100,
        optimizer="sgd",
        optimizer_param={"lr": lr},
        verbose=False,
    )
    trainer.train()
    return trainer.test_acc_list, trainer.train_acc_list


optimization_trial = 8
results_val = {}
results_train = {}
for _ in range(optimization_trial):
    weight_decay = 10 ** np.random.uniform(-8, -4)
    lr = 10 ** np.random.uniform(-6, -2)

    val_acc_list, train_acc_list = __train(lr, weight_decay)
    print("val acc " + str(val_acc_list[-1]) + " | lr " + str(lr) + ", weight decay " + str(weight_decay))
    key = "lr=" + str(lr) + ", weight decay=" + str(weight_decay)
    results_val[key] = val_acc_list
    results_train[key] = train_acc_list

print("=========== Hyper-Parameter Optimization Result ===========")
graph_draw_num = 4
col_num = 2
row_num = int(np.ceil(graph_draw_num / col_num))
i = 0
best = None
for key, val_acc_list in sorted(results_val.items(), key=lambda x: x[1][-1], reverse=True):
    print("Best-" + str(i + 1) + " (val acc " + str(val_acc_list[-1]) + ") | " + key)
    best = best or key
    plt.subplot(row_num, col_num, i + 1)
    plt.title("Best-" + str(i + 1))
    plt.ylim(0.0, 1.0)
    if i % col_num:
        plt.yticks([])
    plt.xticks([])
    x = np.arange(len(val_acc_list))
    plt.plot(x, val_acc_list)
    plt.plot(x, results_train[key], "--")
    i += 1
    if i >= graph_draw_num:
        break
plt.show()
print("trials:" + str(len(results_val)))
print("validation:" + str(len(x_val)))
print("best_val:" + str(results_val[best][-1]))
print("worst_val:" + str(min(v[-1] for v in results_val.values())))
print("best_lr:" + best.split(",")[0].split("=")[1])
