from zerograd.book.functions import *  # noqa: F401,F403
