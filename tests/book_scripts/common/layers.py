from zerograd.book.layers import *  # noqa: F401,F403
