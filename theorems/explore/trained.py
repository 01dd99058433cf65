"""The training setting shared by the questions that train nets (Q2, Q3, Q7-Q10), fixed a priori.

d = 16 features, k = 2 expected active (p = 1/8), sigma = 0.1, random dictionary (seed 1),
unit magnitudes, task ``w* = 1/sqrt(d)`` (uniform); m = 32 hidden nodes, small Gaussian init
(scale 0.01), Adam lr 0.01, batch 128, online samples, logistic loss; adversarial training in
l2 at ``EPS = 0.4`` with 5-step PGD and the radius ramped up over the first 30% of the steps.
Why eps = 0.4: just above ``sqrt(k/d) = 0.354``, the radius where dense nets break (P2), and
below the pure net's ``1 - b`` for any b < 0.6: a radius at which only purified nets can be
robust. Purity is the activity-weighted mean max-loading of first-layer nodes on 4000 fresh
inputs (seed ``EVAL_SEED``), the same inputs for every net.
"""
from __future__ import annotations

from functools import cache

import numpy as np
import torch

from numerics import ModelConfig, SparseCodingModel
from numerics.estimates import proportion
from numerics.exact_law import tie_sign
from numerics.purity import effective_features, node_purity
from numerics.training import TrainConfig

D, K, SIGMA, DICT_SEED, WIDTH = 16, 2.0, 0.1, 1, 32
EPS, LR, BATCH, PGD_STEPS, RAMP, INIT_SCALE = 0.4, 0.01, 128, 5, 0.3, 0.01
EVAL_SEED, EVAL_N = 4242, 4000
TAU = 0.9


@cache
def model(d: int = D, k: float = K, sigma: float = SIGMA, dictionary: str = "random") -> SparseCodingModel:
    return SparseCodingModel(ModelConfig(d=d, p=min(1.0, k / d), sigma=sigma, dictionary=dictionary,
                                         dictionary_seed=DICT_SEED))


def wstar(d: int = D) -> np.ndarray:
    return np.ones(d) / np.sqrt(d)


def config(eps: float, steps: int, seed: int, **over) -> TrainConfig:
    kw = dict(steps=steps, batch=BATCH, lr=LR, eps=eps, norm="l2", pgd_steps=PGD_STEPS, eps_ramp=RAMP,
              width=WIDTH, init_scale=INIT_SCALE, seed=seed, progress=False, log_every=max(1, steps))
    kw.update(over)
    return TrainConfig(**kw)


@cache
def eval_inputs(d: int = D, k: float = K, sigma: float = SIGMA, dictionary: str = "random", n: int = EVAL_N):
    smp = model(d, k, sigma, dictionary).sample(n, EVAL_SEED)
    return smp.x, smp.z


def purity(W: np.ndarray, weights: np.ndarray, M: np.ndarray, tau: float = TAU) -> dict:
    """Weighted summaries of the rows of ``W`` (numerics.purity's per-node metrics, given weights)."""
    pi = node_purity(W, M)
    neff = effective_features(W, M)
    neff = np.where(np.isfinite(neff), neff, W.shape[1])
    return {"mean_max_loading": float(weights @ pi), "mean_effective_features": float(weights @ neff),
            "purified_fraction": float(weights[pi >= tau].sum())}


def module_purity(module, m: SparseCodingModel, x: np.ndarray) -> dict:
    xt = torch.as_tensor(x, dtype=next(module.parameters()).dtype)
    return purity(module.first_layer(), module.node_weights(xt), m.M)


def pgd_robust_error(net, m: SparseCodingModel, w: np.ndarray, eps: float, *, n: int, seed: int, steps: int = 20,
                     restarts: int = 2, norm: str = "l2") -> dict:
    """PGD robust error on ``n`` fresh samples (a lower bound on the true one), Clopper-Pearson 99%.

    ``net``: a TwoLayerNet or a torch module; ties ``y = 0`` count as errors.
    """
    from numerics.attacks.pgd import pgd_min_margin

    smp = m.sample(n, seed)
    y = tie_sign(smp.z @ w, np.abs(smp.z) @ np.abs(w))
    err = np.ones(n, dtype=bool)
    nz = y != 0
    if isinstance(net, torch.nn.Module):
        with torch.no_grad():
            clean = y[nz] * net(torch.as_tensor(smp.x[nz], dtype=next(net.parameters()).dtype)).double().numpy()
    else:
        clean = y[nz] * net(smp.x[nz])
    if eps > 0:
        mm = np.minimum(pgd_min_margin(net, smp.x[nz], y[nz], eps, norm, steps=steps, restarts=restarts, seed=seed), clean)
    else:
        mm = clean
    err[nz] = mm <= 0
    clean_err = np.ones(n, dtype=bool)
    clean_err[nz] = clean <= 0
    return {"robust_error": proportion(err).to_dict(), "clean_error": proportion(clean_err).to_dict()}


# --------------------------------------------------------------------------- shared training tasks

SHARED_PREFIX = "shared:"


def train_task(key: str, *, eps: float, steps: int, seed: int, activation: str = "soft_threshold",
               threshold: str = "shared", loss: str = "logistic", n_train: int | None = None, eval_eps: float = EPS,
               eval_n: int = 1000, keep_layer: bool = False, d: int = D, k: float = K, support: int | None = None) -> dict:
    """A two-layer training run (``numerics.training.train``) that several questions share.

    Its identity is the dict without ``key``: equal runs requested by different questions are
    computed once (the runner dedups ``shared:`` tasks across questions). ``support``: the task
    is :func:`task_direction` (uniform on the first ``support`` features; None = all).
    """
    out = {"kind": SHARED_PREFIX + "train2", "key": key, "eps": float(eps), "steps": int(steps), "seed": int(seed),
           "activation": activation, "threshold": threshold, "loss": loss, "n_train": n_train,
           "eval_eps": float(eval_eps), "eval_n": int(eval_n), "keep_layer": bool(keep_layer), "d": d, "k": k}
    if support is not None:
        out["support"] = int(support)
    return out


def task_direction(d: int = D, support: int | None = None) -> np.ndarray:
    """``w* = 1/sqrt(s)`` on the first ``s`` features (all d when ``support`` is None), 0 elsewhere."""
    s = d if support is None else support
    w = np.zeros(d)
    w[:s] = 1.0 / np.sqrt(s)
    return w


def compute_shared(t: dict) -> dict:
    if t["kind"] != SHARED_PREFIX + "train2":
        raise ValueError(f"unknown shared task kind {t['kind']!r}")
    from numerics.purity import network_purity
    from numerics.training import train

    m = model(t["d"], t["k"])
    w = task_direction(t["d"], t.get("support"))
    cfg = config(t["eps"], t["steps"], t["seed"], activation=t["activation"], threshold=t["threshold"],
                 loss=t["loss"], n_train=t["n_train"])
    res = train(m, w, None, cfg)
    net = res.net.to_net()
    x, _ = eval_inputs(t["d"], t["k"])
    pur = network_purity(net, m.M, x=x, weights="activity", tau=TAU)
    out = {"purity": {"mean_max_loading": pur.mean_max_loading, "mean_effective_features": pur.mean_effective_features,
                      "purified_fraction": pur.purified_fraction},
           **pgd_robust_error(net, m, w, t["eval_eps"], n=t["eval_n"], seed=EVAL_SEED + 1),
           "seeds": res.seeds, "threshold_mean": float(np.mean(net.b))}
    if t["keep_layer"]:
        out["layer"] = {"W": net.W.tolist(), "b": net.b.tolist(), "activation": net.activation}
    if t["n_train"] is not None:  # the empirical robust error on the training sample itself
        import torch as _t

        gen = _t.Generator().manual_seed(res.seeds["data"])
        xs, zs = m.sample_torch(t["n_train"], gen, dtype=_t.float32)  # the same draw as train's fixed sample
        out["train_sample"] = _empirical(net, xs.double().numpy(), zs.double().numpy(), w, t["eval_eps"])
    return out


def _empirical(net, x: np.ndarray, z: np.ndarray, w: np.ndarray, eps: float) -> dict:
    from numerics.attacks.pgd import pgd_min_margin

    y = tie_sign(z @ w, np.abs(z) @ np.abs(w))
    nz = y != 0
    err = np.ones(len(y), dtype=bool)
    clean = y[nz] * net(x[nz])
    err[nz] = np.minimum(pgd_min_margin(net, x[nz], y[nz], eps, "l2", steps=20, restarts=2, seed=EVAL_SEED + 2), clean) <= 0
    return {"robust_error": float(err.mean()), "n": int(len(y))}
