"""Moved to ``zerograd.io.fileio``; this name keeps working for one release, with a ``DeprecationWarning``."""

import sys
import warnings

from .io import fileio as _moved

warnings.warn("zerograd.fileio moved to zerograd.io.fileio", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
