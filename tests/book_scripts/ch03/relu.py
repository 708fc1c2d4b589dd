# ReLU plotted over [-5, 5), as the book's ch03/relu.py draws it.
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pylab as plt  # noqa: E402
import numpy as np  # noqa: E402
from common.functions import relu  # noqa: E402

x = np.arange(-5.0, 5.0, 0.1)
y = relu(x)
plt.plot(x, y)
plt.ylim(-1.0, 5.5)
plt.show()
print("zeros:" + str(int(np.sum(y == 0))))
print("max:" + repr(float(y.max())))
