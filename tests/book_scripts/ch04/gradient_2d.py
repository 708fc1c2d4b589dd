# The gradient field of f(x0, x1) = x0² + x1² (figure 4-9), as the book's ch04/gradient_2d.py draws it: one
# point per row, np.array([X, Y]).T (the repository's commit a134880, 2019-01-15).
import os
import sys

sys.path.append(os.pardir)
import matplotlib.pylab as plt  # noqa: E402
import numpy as np  # noqa: E402
from common.gradient import numerical_gradient_2d as numerical_gradient  # noqa: E402


def function_2(x):
    if x.ndim == 1:
        return np.sum(x**2)
    return np.sum(x**2, axis=1)


if __name__ == "__main__":
    x0 = np.arange(-2, 2.5, 0.25)
    x1 = np.arange(-2, 2.5, 0.25)
    X, Y = np.meshgrid(x0, x1)
    X = X.flatten()
    Y = Y.flatten()

    grad = numerical_gradient(function_2, np.array([X, Y]).T).T

    plt.figure()
    plt.quiver(X, Y, -grad[0], -grad[1], angles="xy", color="#666666")
    plt.xlim([-2, 2])
    plt.ylim([-2, 2])
    plt.xlabel("x0")
    plt.ylabel("x1")
    plt.grid()
    plt.draw()
    plt.show()
    print("points:" + str(grad.shape[1]))
    print("error:" + repr(float(np.abs(grad - 2 * np.array([X, Y])).max())))
