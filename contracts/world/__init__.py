"""The demo world: a deterministic generator from a known latent model, and the world-directory I/O."""

from contracts.world.generator import LatentTruth, generate_world, latent_truth
from contracts.world.io import (
    WorldSummary,
    WorldTables,
    read_events,
    read_items,
    read_users,
    read_world,
    write_tables,
)
from contracts.world.sizes import SPECS, BehaviourParams, WorldSpec, spec_for

__all__ = [
    "SPECS",
    "BehaviourParams",
    "LatentTruth",
    "WorldSpec",
    "WorldSummary",
    "WorldTables",
    "generate_world",
    "latent_truth",
    "read_events",
    "read_items",
    "read_users",
    "read_world",
    "spec_for",
    "write_tables",
]
