"""Retrievers: one model per file, one contract (`base.Retriever`), one registry."""

from __future__ import annotations

from generec.registry import Registry, resolve


class _Retrievers(Registry):
    """Holds "module:Class" strings so that torch and implicit load only when their model is used."""

    def __getitem__(self, name: str):
        return resolve(super().__getitem__(name))


RETRIEVERS = _Retrievers("retriever")
for _name, _entry in {
    "mostpop": "generec.retrieval.mostpop:MostPopular",
    "itemknn": "generec.retrieval.itemknn:ItemKNN",
    "ease": "generec.retrieval.ease:EASE",
    "bpr": "generec.retrieval.bpr:BPRMF",
    "lightgcn": "generec.retrieval.lightgcn:LightGCN",
    "multimodal": "generec.retrieval.multimodal:VBPR",
    "implicit-als": "generec.retrieval.implicit_baselines:ImplicitALS",
    "implicit-bpr": "generec.retrieval.implicit_baselines:ImplicitBPR",
    "ensemble": "generec.retrieval.ensemble:Ensemble",
}.items():
    RETRIEVERS.register(_name)(_entry)
