"""The representation and the contrastive loss, split into its positive-pair and negative-pair terms.

Representation (docs/model.md §2): the hidden layer ``h(x) = act(W x; b)`` of m nodes
(:mod:`numerics.activations`: soft threshold ``b >= 0`` or ReLU with intercept ``b``),
optionally normalised to unit length (``normalisation="l2"``, cosine similarities).
Threshold rules (:func:`thresholds`) give each node a dead zone ending at ``tau_j >= 0``,
i.e. ``b_j = tau_j`` (soft threshold) or ``b_j = -tau_j`` (ReLU,
:func:`numerics.activations.b_for_dead_zone`): ``"fixed"`` (``tau_j`` = the config's ``b``),
``"relative"`` (``tau_j = b ||W_j||``, recomputed every step and not differentiated: the
dead zone is a fixed angle whatever scale the loss gives W), ``"shared"`` / ``"per_node"``
(the activation parameter trained from its start; a soft threshold is projected back onto
``b >= 0`` after every step).

Losses, per anchor i with positive view i and negatives j (``s = <h, h'>``):

- ``"spectral"`` (HaoChen et al. 2021): positive term ``-2 s(x_i, x_i+)``, negative term
  ``mean_j s(x_i, x_j-)^2``;
- ``"infonce"``: InfoNCE in its *decoupled* form (Yeh et al. 2022): positive term
  ``-s(x_i, x_i+)/T``, negative term ``log mean_j exp(s(x_i, x_j-)/T)``. The positive pair
  is left out of the partition so that the loss splits exactly into a positive-pair and a
  negative-pair term;
- ``"infonce_std"``: standard InfoNCE, negative term ``log mean exp(s/T)`` over the
  positive *and* the negatives (the positive pair then also sits in the negative term).

``log mean`` instead of ``log sum`` shifts the loss by the constant ``log K``; it makes values
comparable across numbers of negatives and changes no gradient.
"""
from __future__ import annotations

import math

import torch

from ..activations import ACTIVATIONS, activate, b_for_dead_zone
from ..validation import require_choice, require_real

LOSSES = ("spectral", "infonce", "infonce_std")
NORMALISATIONS = ("none", "l2")
THRESHOLD_RULES = ("fixed", "relative", "shared", "per_node")
NORM_FLOOR = 1e-8  # a dead representation (h = 0) stays 0 under l2 normalisation


def thresholds(W: torch.Tensor, b_param: torch.Tensor, rule: str, b: float,
               activation: str = "soft_threshold") -> torch.Tensor:
    """Per-node activation parameter (..., m) of weights ``W`` (..., m, d) under ``rule`` (module docstring).

    ``b_param``: the stored or trained parameter (fixed, shared, per-node rules); ``b``: the
    config's dead-zone ratio (relative rule).
    """
    require_choice("threshold", rule, THRESHOLD_RULES)
    if rule == "relative":  # a schedule, not a parameter: no gradient through it
        return b_for_dead_zone(activation, b * W.detach().norm(dim=-1))
    return b_param.expand(W.shape[:-1])


def representation(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor, activation: str,
                   normalisation: str = "none") -> torch.Tensor:
    """``h(x)`` (..., n, m) for inputs x (..., n, d), weights W (..., m, d), activation parameters b (..., m)."""
    require_choice("activation", activation, ACTIVATIONS)
    require_choice("normalisation", normalisation, NORMALISATIONS)
    h = activate(activation, x @ W.transpose(-1, -2), b.unsqueeze(-2))
    if normalisation == "l2":
        h = h / h.norm(dim=-1, keepdim=True).clamp_min(NORM_FLOOR)
    return h


def contrastive_terms(h: torch.Tensor, h_pos: torch.Tensor, h_neg: torch.Tensor, loss: str,
                      temperature: float = 0.5, *, exclude_diagonal: bool = False
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-anchor positive-pair and negative-pair terms, each (..., n).

    h, h_pos: (..., n, m) anchors and their positive views; h_neg: (..., P, m) the
    negative pool; exclude_diagonal: pool entry i is anchor i's own positive (in-batch
    negatives, P = n) and is left out. Definitions in the module docstring.
    """
    require_choice("loss", loss, LOSSES)
    temperature = require_real("temperature", temperature, low=0.0, low_open=True)
    n, P = h.shape[-2], h_neg.shape[-2]
    if exclude_diagonal and P != n:
        raise ValueError(f"exclude_diagonal needs a pool of the anchors' positives (P = n = {n}), got P = {P}")
    valid = ~torch.eye(n, dtype=torch.bool, device=h.device) if exclude_diagonal else None
    if (P - 1 if exclude_diagonal else P) < 1:
        raise ValueError("h_neg must hold at least one negative per anchor")
    pos, neg, _ = terms(h, h_pos, h_neg, loss, temperature, valid)
    return pos, neg


def positive_term(s_pos: torch.Tensor, loss: str, temperature: float) -> torch.Tensor:
    return -2.0 * s_pos if loss == "spectral" else -s_pos / temperature


def terms(h, h_pos, h_neg, loss, temperature, valid):
    """``(pos, neg, aux)`` unvalidated; aux holds what the closed-form gradient needs (masked S and K, or the logits)."""
    s_pos = (h * h_pos).sum(-1)
    S = h @ h_neg.transpose(-1, -2)  # (..., n, P)
    if loss == "spectral":
        K = S.shape[-1] - (0 if valid is None else 1)
        Sv = S if valid is None else S * valid
        return positive_term(s_pos, loss, temperature), Sv.square().sum(-1) / K, (Sv, K)
    logits = S / temperature
    if valid is not None:
        logits = logits.masked_fill(~valid, float("-inf"))
    if loss == "infonce_std":
        logits = torch.cat([(s_pos / temperature).unsqueeze(-1), logits], dim=-1)
    K = logits.shape[-1] - (0 if valid is None else 1)
    return positive_term(s_pos, loss, temperature), torch.logsumexp(logits, dim=-1) - math.log(K), logits
