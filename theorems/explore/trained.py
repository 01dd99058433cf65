"""Trained nets of the questions (Q2, Q3, Q5, Q7-Q10): the training setting, batched runs, their evaluation.

A question's training setting is its parameters (sections ``model``, ``net``, ``train``,
``seeds``, ``eval``, ``purity``; :mod:`theorems.catalogue.questions`), copied into plain dicts
(:func:`setting`, :func:`evaluation`) that travel inside tasks. All seeds of one setting train
as ONE batched run (:func:`numerics.training.train_batch` / ``train_module_batch``: run r is bit
for bit the run trained alone with seed r).

Every trained net is evaluated the same way (:func:`evaluate`):

- purity: the activity-weighted mean (tau, k)-loading ``pi_j^(k) = sqrt(sum of the k largest
  c_ji^2)`` and the weight share of (tau, k)-purified nodes for k = 1, 2, 3
  (:data:`REPORTED_K`), on ``purity.samples`` fresh inputs drawn with seed ``purity.seed`` (the
  same inputs for every net of a setting); the claims judge ``purity.top_k``;
- clean error: Monte Carlo over exact clean margins (:func:`numerics.risk.clean_error`);
- robust error at ``eval.eps``: :func:`numerics.risk.robust_error` with ``method="verified"``
  for every two-layer net (soft threshold or ReLU; the circulant net is one): exact per-sample
  decisions of complete verification, the undecided samples widening the interval, and the
  robustness audit (errors verification found that the suite's PGD missed). Nets numerics can
  only attack (three-layer, smooth threshold, RMS-normalised: opaque modules) get
  ``method="attack"``: PGD's lower confidence limit, upper side the trivial 1 (said in their
  evidence). Samples drawn with seed ``eval.seed``, the same for every net.
"""
from __future__ import annotations

from functools import cache

import numpy as np
import torch

from numerics import ModelConfig, SparseCodingModel, TwoLayerNet
from numerics.attacks.pgd import PGD_DEFAULTS
from numerics.purity import effective_features, feature_loadings, node_weights, top_k_loading
from numerics.risk import clean_error, engine_for, robust_error
from numerics.training import TrainConfig

REPORTED_K = (1, 2, 3)
SHARED_PREFIX = "shared:"


# --------------------------------------------------------------------------- settings as plain data


def setting(params, **over) -> dict:
    """The training setting of ``params`` (sections model, net, train, seeds) as a JSON-able dict.

    A claim training several losses has no ``train.loss`` and names the loss in ``over``.
    """
    m, n, tr, sd = params.model, params.net, params.train, params.seeds
    out = {"d": m.d, "k": m.k, "sigma": m.sigma, "dictionary": m.dictionary, "dictionary_seed": m.dictionary_seed,
           "width": n.width, "activation": "soft_threshold", "eps": tr.eps, "norm": tr.norm,
           "optimiser": tr.optimiser, "lr": tr.lr, "steps": tr.steps, "batch": tr.batch, "init_scale": tr.init_scale,
           "threshold": tr.threshold, "b_init": tr.b_init, "pgd_steps": tr.pgd_steps, "pgd_restarts": tr.pgd_restarts,
           "eps_ramp": tr.eps_ramp, "loss": getattr(tr, "loss", "logistic"), "n_train": tr.n_train,
           "seeds": list(range(sd.first, sd.first + sd.n))}
    out.update(over)
    return out


def evaluation(params) -> dict:
    """How every trained net of ``params`` is evaluated (sections eval, purity) as a JSON-able dict."""
    e, p = params.eval, params.purity
    return {"eps": e.eps, "norm": e.norm, "samples": e.samples, "seed": e.seed, "level": e.level,
            "pgd_steps": e.pgd_steps, "pgd_restarts": e.pgd_restarts, "branches": e.verify_branches,
            "restarts": e.verify_restarts, "polish": e.verify_polish, "tau": p.tau, "purity_samples": p.samples, "purity_seed": p.seed}


@cache
def _model(d: int, k: float, sigma: float, dictionary: str, dictionary_seed: int) -> SparseCodingModel:
    return SparseCodingModel(ModelConfig(d=d, p=min(1.0, k / d), sigma=sigma, dictionary=dictionary,
                                         dictionary_seed=dictionary_seed))


def model(s: dict, **over) -> SparseCodingModel:
    """The data model of a setting (``over`` replaces fields, e.g. ``dictionary="identity"``)."""
    s = {**s, **over}
    return _model(s["d"], float(s["k"]), float(s["sigma"]), s["dictionary"], s["dictionary_seed"])


def task_direction(d: int, support: int | None = None) -> np.ndarray:
    """``w* = 1/sqrt(s)`` on the first ``s`` features (all d when ``support`` is None), 0 elsewhere."""
    s = d if support is None else support
    w = np.zeros(d)
    w[:s] = 1.0 / np.sqrt(s)
    return w


def config(s: dict, **over) -> TrainConfig:
    """The :class:`TrainConfig` of a setting (its ``seed`` is replaced per run by the batched trainers)."""
    kw = dict(steps=s["steps"], batch=s["batch"], lr=s["lr"], optimiser=s["optimiser"], eps=s["eps"], norm=s["norm"],
              pgd_steps=s["pgd_steps"], pgd_restarts=s["pgd_restarts"], eps_ramp=s["eps_ramp"], width=s["width"],
              init_scale=s["init_scale"], threshold=s["threshold"], b_init=s["b_init"], activation=s["activation"],
              loss=s["loss"], n_train=s["n_train"] or None, seed=s["seeds"][0], progress=False,
              log_every=max(1, s["steps"]))
    kw.update(over)
    return TrainConfig(**kw)


_INPUTS: dict = {}


def purity_inputs(m: SparseCodingModel, ev: dict) -> np.ndarray:
    """The fresh inputs on which every net's activity weights are measured (seed ``purity.seed``), cached per model."""
    key = (m.config, ev["purity_samples"], ev["purity_seed"])
    if key not in _INPUTS:
        _INPUTS[key] = m.sample(ev["purity_samples"], ev["purity_seed"]).x
    return _INPUTS[key]


# --------------------------------------------------------------------------- evaluation of one net


def purity_report(W: np.ndarray, weights: np.ndarray, M: np.ndarray, tau: float) -> dict:
    """Activity-weighted (tau, k)-purity of the rows of ``W`` for k = 1, 2, 3 (numerics.purity's per-node metrics)."""
    C = feature_loadings(W, M)
    ks = [k for k in REPORTED_K if k <= C.shape[1]]
    loadings = {k: top_k_loading(C, k) for k in ks}
    neff = effective_features(W, M)
    neff = np.where(np.isfinite(neff), neff, W.shape[1])
    return {"mean_top_k_loading": {str(k): float(weights @ loadings[k]) for k in ks},
            "purified_fraction": {str(k): float(weights[loadings[k] >= tau].sum()) for k in ks},
            "mean_effective_features": float(weights @ neff), "tau": tau}


def loading(run: dict, k: int) -> float:
    """A run's judged purity: the activity-weighted mean (tau, k)-loading (k = 1: mean max loading)."""
    return run["purity"]["mean_top_k_loading"][str(k)]


def two_layer_purity(net: TwoLayerNet, m: SparseCodingModel, ev: dict) -> dict:
    return purity_report(net.W, node_weights(net, purity_inputs(m, ev), "activity"), m.M, ev["tau"])


def module_purity(module, m: SparseCodingModel, ev: dict, *, layer: str = "first") -> dict:
    """Purity of a torch module's first layer (``layer="second"``: a three-layer net's composite rows W2 W1)."""
    xt = torch.as_tensor(purity_inputs(m, ev), dtype=next(module.parameters()).dtype)
    if layer == "second":
        return purity_report(module.second_layer_composite(), module.node_weights2(xt), m.M, ev["tau"])
    return purity_report(module.first_layer(), module.node_weights(xt), m.M, ev["tau"])


def robust_method(net, m: SparseCodingModel, w: np.ndarray, ev: dict) -> str:
    """``verified`` for two-layer nets (``auto`` where an exact per-sample engine applies), ``attack`` otherwise."""
    if not isinstance(net, TwoLayerNet):
        return "attack"
    return "auto" if engine_for("robust_error", net, m, w, ev["eps"], ev["norm"]) == "exact" else "verified"


def evaluate(net, m: SparseCodingModel, w: np.ndarray, ev: dict, label: str, *, eps: float | None = None,
             samples: int | None = None, seed: int | None = None) -> dict:
    """Clean and robust error of one net (module docstring), with its robustness audit row when verified.

    ``eps``/``samples``/``seed`` default to the evaluation's (``eval.eps``, ``eval.samples``, ``eval.seed``).
    Returns ``{"clean_error", "robust_error"}`` (Estimate dicts) and ``"audit"`` (None for attack-only modules).
    """
    from numerics.verification import Budget

    eps = ev["eps"] if eps is None else eps
    n = ev["samples"] if samples is None else samples
    seed = ev["seed"] if seed is None else seed
    evx = {**ev, "eps": eps}
    method = robust_method(net, m, w, evx)
    pgd = PGD_DEFAULTS.replace(steps=ev["pgd_steps"], restarts=ev["pgd_restarts"])
    kw = dict(method=method, samples=n, seed=seed, level=ev["level"])
    if method == "attack":
        kw["pgd"] = {"steps": pgd.steps, "restarts": pgd.restarts}
    elif method == "verified":
        kw["verify"] = {"budget": Budget(branches=ev["branches"]), "options": search_options(ev)}
    rob = robust_error(net, m, w, eps, ev["norm"], **kw)
    cln = clean_error(net, m, w, method="mc", samples=n, seed=seed, level=ev["level"])
    audit = None
    if rob.method == "verified":
        det = rob.details
        verified = int(det["ties"]) + int(det["attackable"])
        audit = {"net": label, "eps": eps, "norm": ev["norm"], "samples": n, "pgd_errors": verified - int(det["pgd_missed"]),
                 "verified_errors": verified, "unknown": int(det["unknown"]), "missed_by_pgd": int(det["pgd_missed"]),
                 "pgd": {"steps": pgd.steps, "restarts": pgd.restarts}, "branches": ev["branches"],
                 "extra_restarts": ev["restarts"], "polish": ev["polish"]}
    return {"robust_error": rob.to_dict(), "clean_error": cln.to_dict(), "audit": audit}


def search_options(ev: dict):
    """The verifier's options of an evaluation: the suite's PGD at ``eval.pgd_*`` as its root attack, and its
    extra restarts and root polish for undecided samples."""
    from numerics.verification import SearchOptions

    pgd = PGD_DEFAULTS.replace(steps=ev["pgd_steps"], restarts=ev["pgd_restarts"])
    return SearchOptions(pgd=pgd, extra_restarts=ev["restarts"], polish_iters=ev["polish"])


def sound_error(est: dict) -> float:
    """The sound (pessimistic) side of a robust-error estimate's sample fraction: proven errors plus the
    samples verification left undecided (verified), the value itself when exact per sample.

    An attack-only estimate has no sound side (its errors are a lower bound): ValueError.
    """
    if est["method"] == "verified":
        return float(est["details"]["certified"])
    if est["method"] in ("mc", "exact"):
        return float(est["value"])
    raise ValueError(f"robust error has no sound side: method {est['method']!r} (attack only)")


# --------------------------------------------------------------------------- the shared two-layer runs


def train_task(key: str, s: dict, ev: dict, *, support: int | None = None, keep_layer: bool = False,
               empirical: bool = False) -> dict:
    """A batched two-layer training run (all seeds of ``s``) that several questions share.

    Its identity is the dict without ``key``: equal runs requested by different questions (or by
    a claim and its controls) are computed once. ``support``: the task is :func:`task_direction`;
    ``keep_layer``: return each net's weights; ``empirical``: with a fixed training sample, also
    the verified robust error on that sample itself.
    """
    out = {"kind": SHARED_PREFIX + "train2", "key": key, "setting": dict(s), "evaluation": dict(ev),
           "keep_layer": bool(keep_layer), "empirical": bool(empirical and s["n_train"])}
    if support is not None:
        out["support"] = int(support)
    return out


def compute_shared(t: dict) -> dict:
    if t["kind"] != SHARED_PREFIX + "train2":
        raise ValueError(f"unknown shared task kind {t['kind']!r}")
    from numerics.training import train_batch

    s, ev = t["setting"], t["evaluation"]
    m = model(s)
    w = task_direction(s["d"], t.get("support"))
    res = train_batch(m, w, config(s), seeds=s["seeds"])
    runs = []
    for seed, r in zip(s["seeds"], res):
        net = r.net.to_net()
        label = f"{s['activation']} {s['loss']} eps={s['eps']:g} n={s['n_train'] or 'online'} seed {seed}"
        run = {"seed": seed, "purity": two_layer_purity(net, m, ev), **evaluate(net, m, w, ev, label),
               "threshold_mean": float(np.mean(net.b))}
        if t["keep_layer"]:
            run["layer"] = {"W": net.W.tolist(), "b": net.b.tolist(), "activation": net.activation}
        if t["empirical"]:
            gen = torch.Generator().manual_seed(r.seeds["data"])
            xs, zs = m.sample_torch(s["n_train"], gen, dtype=torch.float32)  # the same draw as train's fixed sample
            run["train_sample"] = sample_robust_error(net, xs.double().numpy(), zs.double().numpy(), w, ev)
        runs.append(run)
    return {"runs": runs}


def sample_robust_error(net: TwoLayerNet, x: np.ndarray, z: np.ndarray, w: np.ndarray, ev: dict) -> dict:
    """Robust error on a given sample (the training sample itself), by complete verification per sample.

    Only the first ``eval.samples`` rows are verified (a Monte Carlo estimate of the empirical robust error
    when the sample is larger). numerics.risk estimates population quantities only, so this calls
    :func:`numerics.verification.verify` on the labelled rows (ties ``y = 0`` are errors, A1); an error is a
    worst-case margin <= 0. Returns the proven error fraction and the fraction possible (proven + undecided).
    """
    from numerics.exact_law import tie_sign
    from numerics.verification import Budget, verify

    x, z = x[:ev["samples"]], z[:ev["samples"]]
    y = tie_sign(z @ w, np.abs(z) @ np.abs(w))
    nz = y != 0
    res = verify(net, x[nz], y[nz], ev["eps"], ev["norm"], budget=Budget(branches=ev["branches"]),
                 options=search_options(ev), seed=ev["seed"] + 1)
    counts = res.counts()
    ties = int((~nz).sum())
    n = len(y)
    return {"robust_error": (ties + counts["attackable"]) / n,
            "robust_error_possible": (ties + counts["attackable"] + counts["unknown"]) / n, "n": n,
            "unknown": int(counts["unknown"]), "missed_by_pgd": int(counts["pgd_missed"])}


# --------------------------------------------------------------------------- other architectures (torch modules)


def init_seeds(s: dict) -> list[int]:
    """Each run's init seed (as :func:`numerics.training.train_batch` derives it), for ``Module.random_init``."""
    from numerics.training import derive_seeds

    return [derive_seeds(x)["init"] for x in s["seeds"]]


def train_runs(runs_module, m: SparseCodingModel, w: np.ndarray, s: dict) -> list:
    """Train a runs module (one run per seed of ``s``) as one batched run; the trained single nets, frozen.

    Every trainable threshold starts at ``train.b_init`` (the modules' own inits start them at 0).
    """
    from numerics.training import train_module_batch

    with torch.no_grad():
        for p in runs_module.parameter_groups().get("threshold", []):
            p.fill_(s["b_init"])
    width = int(runs_module.first_layer().shape[-2])  # the circulant net has d nodes whatever net.width says
    train_module_batch(runs_module, m, w, config(s, width=width), seeds=s["seeds"])
    runs_module.requires_grad_(False)
    return [runs_module.run(r) for r in range(len(s["seeds"]))]


def circulant_as_two_layer(module) -> TwoLayerNet:
    """The circulant (weight-shared) net as the two-layer net it is: rows roll(f, j), one threshold for all."""
    W = module.first_layer()
    b = float(module.b1.detach().clamp_min(0.0).reshape(-1)[0])
    return TwoLayerNet(W=W, a=module.a.detach().double().numpy().copy(), b=np.full(W.shape[0], b),
                       c=float(module.c.detach()), family="circulant")
