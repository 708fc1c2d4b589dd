# The step function plotted over [-5, 5), as the book's ch03/step_function.py draws it.
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pylab as plt  # noqa: E402
import numpy as np  # noqa: E402
from common.functions import step_function  # noqa: E402

X = np.arange(-5.0, 5.0, 0.1)
Y = step_function(X)
plt.plot(X, Y)
plt.ylim(-0.1, 1.1)
plt.show()
print("points:" + str(len(Y)))
print("ones:" + str(int(np.sum(Y))))
print("dtype:" + str(Y.dtype))
