"""The book's module names and signatures, for running its scripts unchanged.

The book's chapter-5 scripts import ``common.layers``, ``common.gradient``, ``dataset.mnist``, ... Make those thin
modules that star-import the matching ``zerograd.book`` module (``from zerograd.book.layers import *``) and the
scripts run on zerograd. Only here do the book's camelCase names (``lastLayer``) live.
"""
