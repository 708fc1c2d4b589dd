"""Subcommands of the ``zerograd`` command line, one module each (see ``zerograd.cli``)."""
