"""Data sets: built-in benchmarks and the importer of a user's own data.

`BUILDERS` makes a data set from parameters (a size); `LOADERS` reads one shipped by a package.
"""

from __future__ import annotations

from generec.registry import Registry

BUILDERS: Registry = Registry("data set to build")
LOADERS: Registry = Registry("data set to load")
BUILDERS.register("microvideo")("generec.datasets.microvideo:build_microvideo")
LOADERS.register("movielens-100k")("generec.datasets.movielens:load_movielens")
