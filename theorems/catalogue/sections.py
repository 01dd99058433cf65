"""Sections that several families declare alike: one definition, each claim overriding its defaults.

``VerifiedEval`` is the evaluation of a claim whose nets' robust errors are verified (complete
verification, :mod:`numerics.verification`, with the suite's PGD inside it as the audit's
attack): the radius and threat model, the inputs' seed, the confidence level and the
verifier's budgets. A claim's eval section subclasses it and redeclares only the fields whose
default or meaning differs (a redeclared field keeps its place in the section).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..parameters import Section, key


@dataclass(frozen=True)
class VerifiedEval(Section):
    NAME = "eval"
    eps: float = key("eval.eps", 0.4, hi=10.0)
    norm: str = key("eval.norm", "l2")
    seed: int = key("eval.seed", 0)
    level: float = key("eval.level", 0.99)
    pgd_steps: int = key("eval.pgd_steps", 50, doc="the suite's PGD inside verification (audit: errors it missed)")
    pgd_restarts: int = key("eval.pgd_restarts", 20)
    verify_branches: int = key("eval.verify_branches", 100)
    verify_restarts: int = key("eval.verify_restarts", 20)
    verify_polish: int = key("eval.verify_polish", 0)
