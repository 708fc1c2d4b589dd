"""Moved to ``zerograd.engine.memory``; this name keeps working for one release, with a ``DeprecationWarning``."""

import sys
import warnings

from .engine import memory as _moved

warnings.warn("zerograd.memory moved to zerograd.engine.memory", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
