"""Moved to ``zerograd.io.images``; this name keeps working for one release, with a ``DeprecationWarning``."""

import sys
import warnings

from .io import images as _moved

warnings.warn("zerograd.images moved to zerograd.io.images", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
