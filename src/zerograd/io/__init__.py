"""Files, safely: the one atomic writer, ``.npz`` without pickle and with bounded memory, images decoded within
limits, the run lock. Checkpoints and datasets read and write through it."""
