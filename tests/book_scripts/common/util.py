from zerograd.book.util import *  # noqa: F401,F403
