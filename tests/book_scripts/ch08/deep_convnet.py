from zerograd.book.deep_convnet import *  # noqa: F401,F403
