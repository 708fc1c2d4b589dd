"""Moved to ``zerograd.io.runlock``; this name keeps working for one release, with a ``DeprecationWarning``."""

import sys
import warnings

from .io import runlock as _moved

warnings.warn("zerograd.runlock moved to zerograd.io.runlock", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
