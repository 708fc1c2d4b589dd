"""Why a gradient check fails: the common backprop mistakes, recognised from the two gradients and a few probes.

``check_layer(..., explain=True)`` and ``check_net(..., explain=True)`` hand a failing check to this module. It
compares the backprop gradient ``a`` with the numerical one ``n`` element by element and, where that is not
enough, runs the layer again (a second batch size, a second ``dout``, the same call twice, other step sizes):

- layer-level slips that make every number meaningless: ``backward`` writing into ``dout``, into the input or into
  the layer's own saved state; a ``forward`` that draws a new random mask or depends on an earlier call;
- the arithmetic: a constant factor (``N``, ``1/N``, ``-1``, ``0``, any other), the transpose, right values in the
  wrong elements (an axes order or a permutation), a bias gradient not summed over the batch or summed over the
  wrong axes;
- the local derivative: a gradient that ignores ``dout`` (right only for ``dout = 1``), or is computed from the
  wrong variable (``y (1 - y)`` from the input ``x``, a ReLU mask from ``dout``);
- the check itself: inputs on a kink (ReLU at 0, a pooling tie) and a step ``h`` too small or large for the dtype.

Nothing recognised: the worst elements and a map of where the failing ones sit — never a guess. Each diagnosis is
one line in the learner's terms and the numbers behind it. A passing check is never diagnosed.

The modules: ``diagnosis`` (the record and the agreement measure), ``patterns`` (what the two arrays alone show),
``probe`` (running the layer again; layer-level slips), ``layer`` (the order of it all for a layer), ``net``
(where in a net it starts) and ``graph_node`` (a node of a scalar graph).
"""

from .diagnosis import MATCH, Diagnosis, compare_arrays
from .graph_node import diagnose_local
from .layer import diagnose_gradient, diagnose_layer
from .net import locate_in_net
from .patterns import unrecognised
from .probe import LayerProbe, layer_slips

__all__ = [
    "MATCH",
    "Diagnosis",
    "LayerProbe",
    "compare_arrays",
    "diagnose_gradient",
    "diagnose_layer",
    "diagnose_local",
    "layer_slips",
    "locate_in_net",
    "unrecognised",
]
