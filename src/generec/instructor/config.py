"""The instructor's config, and the loop settings it carries (edits and creations it asks for)."""

from __future__ import annotations

from dataclasses import dataclass, field

from generec.creator.creator import CreateConfig
from generec.errors import InputError
from generec.instructor.activation import ActivationConfig
from generec.instructor.fusion import FusionConfig
from generec.pipeline import EditConfig


@dataclass(frozen=True)
class InstructorConfig:
    default_session: str = "default"  # the session of a call that names none
    persist: bool = True  # store accepted turns in ws.instructions (and rebuild sessions from them)
    use_retriever: bool = True  # False: no activation over candidates (the parsed mode stays)
    rerank_pool: int = 50  # items `apply` fetches and re-ranks
    vector_weight: float = 0.5  # weight of z(cos(v', item)) against z(retriever score) in `apply`
    fusion: FusionConfig = field(default_factory=FusionConfig)
    activation: ActivationConfig = field(default_factory=ActivationConfig)
    edit: EditConfig = field(default_factory=EditConfig)
    create_n: int = 1  # items the creator makes when activation picks create
    create: CreateConfig = field(default_factory=CreateConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.default_session, str) or not self.default_session.strip():
            raise InputError(f"InstructorConfig.default_session: expected a non-empty string, found {self.default_session!r}")
        if self.create_n < 1:
            raise InputError(f"InstructorConfig.create_n must be >= 1, found {self.create_n}")
        if self.rerank_pool < 1 or self.vector_weight < 0:
            raise InputError(
                "InstructorConfig: rerank_pool must be >= 1 and vector_weight >= 0, "
                f"found {self.rerank_pool}, {self.vector_weight}"
            )
