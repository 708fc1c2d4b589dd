from zerograd.book.simple_convnet import *  # noqa: F401,F403
