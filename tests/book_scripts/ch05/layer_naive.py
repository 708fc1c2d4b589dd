from zerograd.book.layer_naive import *  # noqa: F401,F403
