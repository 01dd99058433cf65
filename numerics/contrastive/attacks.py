"""Attacks on chosen terms of the contrastive loss.

An attacked variant replaces the anchor ``x_i`` by ``x_i + delta_i`` (``||delta_i|| <= eps``)
in the attacked term(s) only; positives and negatives stay clean. ``delta`` maximises the
attacked term(s): :func:`attack_terms` runs the PGD of :mod:`numerics.attacks.pgd` (its
:func:`~numerics.attacks.pgd.pgd_with_oracle`: same starts, steps, projection and
best-iterate rule) on the term's gradient in closed form, batched over nets, one random
stream per net (``pgd_attack`` through autograd on :class:`TermScore` is the reference it is
tested against). Variants: ``"both"`` (delta maximises the whole loss and enters both terms),
``"negative"``, ``"positive"``, ``"none"`` (clean training).
"""
from __future__ import annotations

import torch
from torch import nn

from ..activations import ACTIVATIONS, activate, slope_times_
from ..attacks.pgd import NORMS, pgd_with_oracle
from ..validation import require_choice, require_real
from .losses import LOSSES, NORM_FLOOR, NORMALISATIONS, contrastive_terms, representation, terms

VARIANTS = ("both", "negative", "positive", "none")  # the (a), (b), (c), (d)
# Which terms the attacked anchor enters: (positive term, negative term).
VARIANT_TERMS = {"both": (True, True), "negative": (False, True), "positive": (True, False), "none": (False, False)}


class TermScore(nn.Module):
    """Score ``-(wp * positive term + wn * negative term)`` per anchor row: the module form of the attack objective.

    Rows are (restarts x nets x anchors) flattened; each net's positives and negative pool
    are fixed context, so anchor i's score depends on its own perturbation only. With
    ``y = 1`` :func:`numerics.attacks.pgd.pgd_attack` (autograd) attacks it; it is the
    reference that the closed-form :func:`attack_terms` is tested against.
    """

    def __init__(self, W, b, h_pos, h_neg, wp, wn, activation="soft_threshold", normalisation="none",
                 loss="spectral", temperature=0.5, exclude_diagonal=False):
        super().__init__()
        self.W, self.b, self.h_pos, self.h_neg = W, b, h_pos, h_neg
        self.wp = torch.as_tensor(wp, dtype=W.dtype).reshape(-1, 1)
        self.wn = torch.as_tensor(wn, dtype=W.dtype).reshape(-1, 1)
        self.activation, self.normalisation, self.loss = activation, normalisation, loss
        self.temperature, self.exclude_diagonal = temperature, exclude_diagonal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        G, n, d = self.h_pos.shape[0], self.h_pos.shape[1], self.W.shape[-1]
        xr = x.reshape(-1, G, n, d)
        h = representation(xr, self.W, self.b, self.activation, self.normalisation)
        pos, neg = contrastive_terms(h, self.h_pos, self.h_neg, self.loss, self.temperature,
                                     exclude_diagonal=self.exclude_diagonal)
        return -(self.wp * pos + self.wn * neg).reshape(-1)


def _objective_and_grad(x, W, b, h_pos, h_neg, wp, wn, activation, normalisation, loss, temperature, valid, grad):
    """Attack objective ``wp * pos + wn * neg`` per anchor (..., G, n) and its gradient in x (closed form).

    With ``t = W x``, ``u = act(t; b)``, ``h = u`` or ``u / ||u||``: ``d pos/dh`` is ``-2 h+``
    (spectral) or ``-h+/T``; ``d neg/dh`` is ``(2/K) sum_j S_ij h_j`` (spectral) or the
    softmax-weighted mean of the pool over T (InfoNCE); then back through the
    normalisation and ``act' in {0, 1}`` to ``x``.
    """
    u = activate(activation, x @ W.transpose(-1, -2), b.unsqueeze(-2))
    if normalisation == "l2":
        r = u.norm(dim=-1, keepdim=True).clamp_min(NORM_FLOOR)
        h = u / r
    else:
        h = u
    pos, neg, aux = terms(h, h_pos, h_neg, loss, temperature, valid)
    wp_, wn_ = wp[:, None], wn[:, None]
    obj = wp_ * pos + wn_ * neg
    if not grad:
        return obj, None
    if loss == "spectral":
        Sv, K = aux
        g_h = wp_[..., None] * (-2.0 * h_pos) + wn_[..., None] * ((2.0 / K) * (Sv @ h_neg))
    else:
        pi = torch.softmax(aux, dim=-1)
        if loss == "infonce_std":
            pool = pi[..., :1] * h_pos + pi[..., 1:] @ h_neg
        else:
            pool = pi @ h_neg
        g_h = wp_[..., None] * (-h_pos / temperature) + wn_[..., None] * (pool / temperature)
    g_u = (g_h - h * (h * g_h).sum(-1, keepdim=True)) / r if normalisation == "l2" else g_h
    return obj, slope_times_(u, g_u) @ W  # act' = 1 exactly where u != 0


class _TermOracle:
    """The PGD oracle of :func:`numerics.attacks.pgd.pgd_with_oracle`: ``f = -objective`` on rows (restart, anchor)."""

    def __init__(self, n, args):
        self.n, self.args = n, args
        self.width = args[0].shape[-2]

    def __call__(self, Z, grad):
        G, N, d = Z.shape
        Zr = Z.reshape(G, N // self.n, self.n, d).transpose(0, 1)  # (restarts, G, n, d)
        obj, g = _objective_and_grad(Zr, *self.args, grad=grad)
        f = -obj.transpose(0, 1).reshape(G, N)
        return f, (None if g is None else -g.transpose(0, 1).reshape(G, N, d))


def attack_terms(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor, h_pos: torch.Tensor, h_neg: torch.Tensor,
                 attack_positive, attack_negative, eps: float, *, activation: str = "soft_threshold",
                 normalisation: str = "none", loss: str = "spectral", temperature: float = 0.5,
                 exclude_diagonal: bool = False, norm: str = "l2", steps: int = 10, restarts: int = 1,
                 step_size: float | None = None, seed=0, zero_start: bool = False) -> torch.Tensor:
    """PGD perturbation of the anchors (G, n, d) that maximises the selected terms of each of G nets.

    W (G, m, d), b (G, m): the nets (constants; ``b`` the activation parameter); h_pos (G, n, m),
    h_neg (G, P, m): their positives' and negative pool's representations; attack_positive,
    attack_negative (G,) booleans: which terms net g's attacker maximises (their sum; a net
    with neither gets ``delta = 0``); seed: an int (every net's stream seeded alike) or one
    int or ``torch.Generator`` per net. Gradients in closed form (:func:`_objective_and_grad`);
    random start in the ball (restart 0 at 0 with ``zero_start``), ``steps`` steps of size
    ``step_size`` (default that of :data:`numerics.attacks.pgd.PGD_DEFAULTS`) along the
    normalised gradient (l2) or its sign (l_inf), projection, and the best iterate over steps
    and restarts (start included) per anchor. Returns delta (G, n, d) with
    ``||delta_i||_norm <= eps``.
    """
    if x.ndim != 3 or W.ndim != 3 or x.shape[0] != W.shape[0] or x.shape[2] != W.shape[2]:
        raise ValueError(f"x must be (G, n, d) matching W (G, m, d), got {tuple(x.shape)} and {tuple(W.shape)}")
    G, n, _ = x.shape
    require_choice("norm", norm, NORMS)
    require_choice("loss", loss, LOSSES)
    require_choice("activation", activation, ACTIVATIONS)
    require_choice("normalisation", normalisation, NORMALISATIONS)
    ap = torch.as_tensor(attack_positive, dtype=torch.bool).reshape(G)
    an = torch.as_tensor(attack_negative, dtype=torch.bool).reshape(G)
    active = (ap | an)[:, None, None]
    if require_real("eps", eps, low=0.0) == 0 or not bool(active.any()):
        return torch.zeros_like(x)  # nothing to attack: no random stream consumed
    x, W, b, h_pos, h_neg = (v.detach() for v in (x, W, b, h_pos, h_neg))
    valid = None
    if exclude_diagonal:
        if h_neg.shape[-2] != n:
            raise ValueError(f"exclude_diagonal needs a pool of the anchors' positives (P = n = {n})")
        valid = ~torch.eye(n, dtype=torch.bool)
    oracle = _TermOracle(n, (W, b, h_pos, h_neg, ap.to(x.dtype), an.to(x.dtype), activation, normalisation, loss,
                             temperature, valid))
    ones = torch.ones((G, n), dtype=x.dtype)
    delta, _ = pgd_with_oracle(oracle, x, ones, eps, norm, steps, restarts, step_size, seed, zero_start=zero_start)
    return torch.where(active, delta, torch.zeros_like(delta))
