from zerograd.book.multi_layer_net_extend import *  # noqa: F401,F403
