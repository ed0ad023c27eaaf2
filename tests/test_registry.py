import pytest

from generec.datasets import BUILDERS, LOADERS
from generec.errors import UnknownNameError
from generec.registry import Registry, resolve


def test_unknown_name_lists_valid_names():
    reg: Registry = Registry("retriever")
    reg.register("bpr")(object)
    reg.register("ease")(object)
    with pytest.raises(UnknownNameError, match="unknown retriever 'als'; valid names: bpr, ease"):
        reg["als"]


def test_double_registration_is_refused():
    reg: Registry = Registry("thing")
    reg.register("a")(int)
    with pytest.raises(ValueError):
        reg.register("a")(float)


def test_dataset_registries_resolve_to_callables():
    assert callable(resolve(BUILDERS["microvideo"]))
    assert callable(resolve(LOADERS["movielens-100k"]))
