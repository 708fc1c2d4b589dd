"""Moved to ``zerograd.engine.threads``; this name keeps working for one release, with a ``DeprecationWarning``."""

import sys
import warnings

from .engine import threads as _moved

warnings.warn("zerograd.threads moved to zerograd.engine.threads", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
