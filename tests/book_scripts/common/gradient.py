from zerograd.book.gradient import *  # noqa: F401,F403
