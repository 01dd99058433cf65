"""Configuration dataclasses of the sparse-coding model (docs/model.md §1), validated on construction."""
from __future__ import annotations

from dataclasses import dataclass, field, asdict
from typing import Literal, Union

from .validation import require_choice, require_int, require_real


@dataclass(frozen=True)
class PointMass:
    """Magnitude law ``r = value`` almost surely (the default, ``value = 1``)."""

    value: float = 1.0
    kind: Literal["point"] = field(default="point", init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", require_real("magnitude", self.value, low=0.0, low_open=True))

    @property
    def mean(self) -> float:
        return self.value

    @property
    def second_moment(self) -> float:
        return self.value**2


@dataclass(frozen=True)
class UniformMagnitude:
    """Magnitude law ``r ~ Uniform[low, high]`` with ``0 <= low < high``."""

    low: float
    high: float
    kind: Literal["uniform"] = field(default="uniform", init=False)

    def __post_init__(self) -> None:
        lo = require_real("magnitude.low", self.low, low=0.0)
        hi = require_real("magnitude.high", self.high, low=lo, low_open=True)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def second_moment(self) -> float:
        return (self.low**2 + self.low * self.high + self.high**2) / 3.0


MagnitudeLaw = Union[PointMass, UniformMagnitude]

DICTIONARIES = ("identity", "random")


@dataclass(frozen=True)
class ModelConfig:
    """The sparse-coding data model: ``x = M z + xi``.

    d: input dimension (number of features); p: activation probability of a feature
    (``k = p d`` active on average); sigma: noise scale with ``xi ~ N(0, sigma^2/d I)``;
    magnitude: law of ``r_i``; dictionary: ``"identity"`` or ``"random"`` (seeded Haar
    orthogonal, seed ``dictionary_seed``).
    """

    d: int
    p: float
    sigma: float = 0.0
    magnitude: MagnitudeLaw = field(default_factory=PointMass)
    dictionary: str = "random"
    dictionary_seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "d", require_int("d", self.d, low=1, high=100_000))
        object.__setattr__(self, "p", require_real("p", self.p, low=0.0, high=1.0, low_open=True))
        object.__setattr__(self, "sigma", require_real("sigma", self.sigma, low=0.0))
        if isinstance(self.magnitude, (int, float)) and not isinstance(self.magnitude, bool):
            object.__setattr__(self, "magnitude", PointMass(float(self.magnitude)))
        if not isinstance(self.magnitude, (PointMass, UniformMagnitude)):
            raise ValueError(
                f"magnitude must be a PointMass, a UniformMagnitude or a positive number, got {self.magnitude!r}"
            )
        require_choice("dictionary", self.dictionary, DICTIONARIES)
        object.__setattr__(
            self, "dictionary_seed", require_int("dictionary_seed", self.dictionary_seed, low=0)
        )

    @property
    def k(self) -> float:
        """Expected number of active features, ``p d``."""
        return self.p * self.d

    @property
    def point_mass(self) -> bool:
        return isinstance(self.magnitude, PointMass)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["magnitude"] = asdict(self.magnitude)
        return out
