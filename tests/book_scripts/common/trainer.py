from zerograd.book.trainer import *  # noqa: F401,F403
