"""Catalogue entries of the supervised family (P1: TRANSITIONAL legacy entry, not yet parameterised)."""
from __future__ import annotations

from dataclasses import dataclass

from ..parameters import ClaimParams, ParamError, Section, key, param
from ..registry import Claim, Control, control, register

register(Claim(
    id='P1', title='Mixing raises the optimal adversarial loss, not the clean one',
    paper_claims=('C1', 'C2'), scope='paper', scope_note=None,
    statement='Along a mixing path Q(t) = expm(tA), with (b, lambda) optimised at each t, the optimal adversarial population logistic loss at t > 0 exceeds its value at the pure net (t = 0), while the optimal clean loss stays flat within its error; at t = 0 every drawn mixing direction increases the adversarial loss.',
    regime='sigma = 0, unit magnitudes, small d (exact enumeration of z), l2 attack, lambda in [0, lambda_max], b in [0, 0.9]',
    params=None, check=None, tests='theorems/test_supervised.py', method='optimisation over exact enumeration (PGD lower bound for t > 0)',
    controls=(Control('threshold_zero', 'b fixed at 0: every Q gives the same linear function, so mixing cannot matter', expected='fail'), Control('clean_loss', 'the adversarial loss replaced by the clean loss (eps = 0)', expected='fail'),),
    legacy=True,
))

@dataclass(frozen=True)
class P2Model(Section):
    NAME = "model"
    k: float = key("model.k", 4.0, doc="at d = 16 under model.law")
    law: str = key("model.law", "k_constant")
    dictionary: str = key("model.dictionary", "identity")


@dataclass(frozen=True)
class P2Net(Section):
    NAME = "net"
    b: float = key("net.b", 0.3, hi=1.0)


@dataclass(frozen=True)
class P2Grid(Section):
    NAME = "grid"
    d: tuple = param((16, 64, 256, 1024, 4096), "dimensions d at which both critical radii are computed",
                     role="size", lo=2, hi=100_000, length=(3, 64))


@dataclass(frozen=True)
class P2Eval(Section):
    NAME = "eval"
    bisection: int = key("eval.bisection", 14)


@dataclass(frozen=True)
class P2Judge(Section):
    NAME = "judge"
    slope_lo: float = param(0.4, "lowest log-log slope of the radius ratio in d accepted as sqrt(d/k) growth",
                            role="threshold", lo=-10, hi=10)
    slope_hi: float = param(0.6, "highest log-log slope accepted as sqrt(d/k) growth", role="threshold", lo=-10, hi=10)
    clean_tol: float = param(1e-12, "largest |clean error pure - linear| counted as the same (Bayes) clean error",
                             role="threshold", lo=0, hi=1)

    def validate(self) -> None:
        if self.slope_lo > self.slope_hi:
            raise ParamError(f"judge.slope_lo must be <= judge.slope_hi, got {self.slope_lo:g} > {self.slope_hi:g}")


@dataclass(frozen=True)
class P2Params(ClaimParams):
    CLAIM = "P2"
    model: P2Model = P2Model()
    net: P2Net = P2Net()
    grid: P2Grid = P2Grid()
    eval: P2Eval = P2Eval()
    judge: P2Judge = P2Judge()


register(Claim(
    id="P2", title="Dense nets break at sqrt(k/d), the pure net at order min(b, 1-b)",
    paper_claims=("C2",), scope="extension",
    scope_note="quantifies 'vulnerable' as the sqrt(d/k) growth of the pure/dense critical-radius ratio; "
               "the clean-training half (training from random init ends unpurified) is checked with P3's runs",
    differences=("The paper's 'vulnerable' is not quantified in its summary; the critical radius is the project's "
                 "A4 level (half of the correctly classified mass broken).",),
    statement="Both nets at the clean Bayes level (|clean error pure - linear| < {judge.clean_tol:g} at every d), the "
              "linear (dense) net's critical l2 radius is of order sqrt(k/d) while the pure net's (threshold "
              "b = {net.b}) is of order one: over d in ({grid.d}) the least-squares log-log slope of "
              "eps_c(pure) / eps_c(linear) in d lies in [{judge.slope_lo}, {judge.slope_hi}] and the ratio grows "
              "at every step of d.",
    regime="sigma = 0, unit magnitudes, uniform w* = 1/sqrt(d), k = {model.k} expected active features at d = 16 "
           "({model.law}), {model.dictionary} dictionary, l2 attack; exact engine, critical radii by "
           "{eval.bisection} bisection halvings",
    params=P2Params, check="theorems.checks.supervised:check_p2", tests="theorems/test_supervised.py",
    method="exact",
    controls=(
        control("threshold_zero", "b = 0: the pure net is the linear net, so the ratio stays 1", net__b=0.0),
        control("not_sparse", "k = d/4 grows with d (outside k << d): sqrt(d/k) is constant, so the ratio cannot grow",
                model__law="k_linear", grid__d=(16, 64, 256)),
    ),
))
