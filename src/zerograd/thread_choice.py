"""Moved to ``zerograd.engine.thread_choice``; this name keeps working for one release, with a ``DeprecationWarning``."""

import sys
import warnings

from .engine import thread_choice as _moved

warnings.warn("zerograd.thread_choice moved to zerograd.engine.thread_choice", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
