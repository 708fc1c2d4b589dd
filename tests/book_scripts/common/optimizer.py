from zerograd.book.optimizer import *  # noqa: F401,F403
