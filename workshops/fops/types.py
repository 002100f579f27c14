"""Plain data passed between the FOP proposal service (workshops) and the code that computes
proposals with embeddings (matching.proposals). Kept here, in the lower app, so matching imports
workshops and never the other way round."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProposalParameters:
    max_size: int = 8
    min_size: int = 2
    similarity: float = 0.45
    partner_weight: float = 0.15

    def as_dict(self) -> dict:
        return {
            "max_size": self.max_size,
            "min_size": self.min_size,
            "similarity": self.similarity,
            "partner_weight": self.partner_weight,
        }


@dataclass(frozen=True)
class NeededCapability:
    id: int
    ref: str
    statement: str
    partner_ids: tuple[int, ...]
    proficiency: int  # the consensus proficiency at this role level (1–3)


@dataclass(frozen=True)
class RoleLevelNeeds:
    role_level_id: int
    role_level_name: str
    capabilities: tuple[NeededCapability, ...]


@dataclass
class ProposedProfile:
    role_level_id: int
    name: str
    description: str
    entries: dict[int, int]  # capability id -> required proficiency
    suggested_names: list[dict] = field(default_factory=list)  # {"name", "source", "code", "score"}
    cohesion: float = 0.0  # mean pairwise similarity of its capabilities
