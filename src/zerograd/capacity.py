"""Moved to ``zerograd.engine.capacity``; this name keeps working for one release, with a ``DeprecationWarning``."""

import sys
import warnings

from .engine import capacity as _moved

warnings.warn("zerograd.capacity moved to zerograd.engine.capacity", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
