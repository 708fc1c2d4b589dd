# The sigmoid beside the step function (figure 3-8), as the book's ch03/sig_step_compare.py draws them.
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pylab as plt  # noqa: E402
import numpy as np  # noqa: E402
from common.functions import sigmoid, step_function  # noqa: E402

x = np.arange(-5.0, 5.0, 0.1)
y1 = sigmoid(x)
y2 = step_function(x)
plt.plot(x, y1)
plt.plot(x, y2, "k--")
plt.ylim(-0.1, 1.1)
plt.show()
# both rise from 0 to 1 and agree on which side of 1/2 every point lies
print("same_side:" + str(int(np.sum((y1 > 0.5) == (y2 == 1)))))
print("points:" + str(len(x)))
