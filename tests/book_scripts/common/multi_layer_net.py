from zerograd.book.multi_layer_net import *  # noqa: F401,F403
