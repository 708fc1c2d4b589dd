# The sigmoid plotted over [-5, 5), as the book's ch03/sigmoid.py draws it.
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pylab as plt  # noqa: E402
import numpy as np  # noqa: E402
from common.functions import sigmoid  # noqa: E402

X = np.arange(-5.0, 5.0, 0.1)
Y = sigmoid(X)
plt.plot(X, Y)
plt.ylim(-0.1, 1.1)
plt.show()
print("first:" + repr(float(Y[0])))
print("middle:" + repr(float(sigmoid(0.0))))
print("last:" + repr(float(Y[-1])))
