"""TRANSITIONAL: the old per-profile sizes of the claims not yet parameterised. Deleted once every claim is."""
from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int  # hypothesis examples per property
    p1_d: int  # dimension of the exact-enumeration mixing-path study
    p1_ts: tuple[float, ...]
    p1_directions: int  # drawn mixing directions at t = 0
    p2_dims: tuple[int, ...]
    p3_seeds: int
    p3_steps: int
    mc_samples: int
    pgd_restarts: int


LEGACY_PROFILES = {
    "quick": Profile("quick", 8, 8, (0.0, 0.1, 0.2, 0.4), 4, (16, 64, 256, 1024, 4096), 4, 1000, 100_000, 4),
    "ci": Profile("ci", 15, 8, (0.0, 0.05, 0.1, 0.2, 0.4), 6, (16, 64, 256, 1024, 4096), 5, 1000, 200_000, 6),
    "thorough": Profile("thorough", 60, 10, (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6), 16,
                        (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192), 10, 3000, 1_000_000, 16),
    "stress": Profile("stress", 200, 8, (0.0, 0.1, 0.2, 0.4), 8, (16, 64, 256, 1024, 4096), 4, 1000, 200_000, 8),
}
