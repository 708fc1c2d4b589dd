"""Moved to ``zerograd.engine.parallel``; this name keeps working for one release, with a ``DeprecationWarning``."""

import sys
import warnings

from .engine import parallel as _moved

warnings.warn("zerograd.parallel moved to zerograd.engine.parallel", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
