from zerograd.book.mnist import *  # noqa: F401,F403
