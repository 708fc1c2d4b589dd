"""Moved to ``zerograd.io.safenpz``; this name keeps working for one release, with a ``DeprecationWarning``."""

import sys
import warnings

from .io import safenpz as _moved

warnings.warn("zerograd.safenpz moved to zerograd.io.safenpz", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
