"""Real data for the downstream check D1: scikit-learn's digits, a learned sparse dictionary, and purity against it.

Data. ``sklearn.datasets.load_digits`` (1797 images of 8 x 8 pixels with values 0..16,
shipped inside scikit-learn: nothing is downloaded). Inputs are scaled to [0, 1] (divide by
16) and centred by the *training* mean, so ``x`` lives in R^64 and an l2 radius is in units
of "pixels at full intensity" (one pixel from 0 to 1 is a step of 1; ``l_inf`` radii are
fractions of full intensity). Attacks act on these centred inputs without clipping to the
pixel box (the certificates do not model the box either). Split: a seeded stratified
split into train and test.

Binary tasks (labels +1 / -1; none is 0): ``"small_vs_large"`` (+1 for digits 0-4),
``"parity"`` (+1 for even digits), and ``"a_vs_b"``-style pairs are not needed here.

Dictionary. :func:`learn_dictionary` fits scikit-learn's ``MiniBatchDictionaryLearning``
(or ``DictionaryLearning``) on the centred training inputs: atoms ``D`` (n_atoms, 64), unit
rows, *not* orthogonal (overcomplete and coherent in general).

Purity against a non-orthogonal dictionary (:func:`dictionary_purity`). For node ``w`` (a
row of the first layer) and unit atoms ``D_i``:

* ``max_cosine = max_i |<w, D_i>| / ||w||`` -- the best single atom's share of the node's
  direction. With an orthonormal dictionary (``D = M^T``) it is exactly docs/model.md's
  ``pi_j = max_i |c_i|``; in general ``max_cosine^2`` is the fraction of ``||w||^2``
  explained by projecting on the best atom.
* ``atoms_needed`` -- the number of atoms orthogonal matching pursuit (scikit-learn's
  ``orthogonal_mp_gram``) selects before the residual of ``w / ||w||`` falls to ``1 - q`` or
  below (``q = 0.9`` by default): the sparsity of the node in the dictionary. With an
  orthonormal dictionary OMP takes the largest ``|c_i|`` first, so this is the smallest ``s``
  with ``sum of the s largest c_i^2 >= q``. A node outside the span reachable with
  ``max_atoms`` atoms gets ``max_atoms + 1``.
* a *null reference*: the same numbers for directions drawn uniformly on the sphere
  (:func:`random_direction_purity`), because against an overcomplete, coherent dictionary a
  random direction already has a sizeable max cosine; purity means "well above the null".

Network summaries weight nodes by activity ``E|a_j h_j(x)|`` (:func:`numerics.purity.node_weights`, A5).

Labels for :func:`numerics.training.train`. ``train`` reads labels as ``sign(<w*, z>)`` from a
latent ``z``; real data has no latent, so :func:`label_carrier` builds ``z = y e_1`` and
``w* = e_1`` (a *label carrier*: ``sign(<w*, z>) = y``), which together with
``data=(x, z)`` makes ``train`` fit the labels ``y``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .purity import node_weights
from .validation import require_array, require_choice, require_int, require_real

TASKS = ("small_vs_large", "parity")
DICTIONARY_METHODS = ("minibatch", "batch")
N_PIXELS = 64


@dataclass(frozen=True)
class Digits:
    """Centred, scaled digits: ``x_*`` (n, 64) float64, ``digit_*`` (n,) ints 0..9; ``mean`` the training mean."""

    x_train: np.ndarray
    digit_train: np.ndarray
    x_test: np.ndarray
    digit_test: np.ndarray
    mean: np.ndarray
    seed: int
    test_fraction: float

    def labels(self, task: str, split: str = "train") -> np.ndarray:
        require_choice("split", split, ("train", "test"))
        return binary_labels(self.digit_train if split == "train" else self.digit_test, task)

    def summary(self) -> dict:
        return {"n_train": int(self.x_train.shape[0]), "n_test": int(self.x_test.shape[0]), "d": N_PIXELS,
                "seed": self.seed, "test_fraction": self.test_fraction, "scaling": "pixels / 16, centred by the training mean"}


def load(*, test_fraction: float = 1 / 3, seed: int = 0) -> Digits:
    """Load scikit-learn's digits, split (stratified, seeded), scale to [0, 1] and centre by the training mean."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    test_fraction = require_real("test_fraction", test_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    seed = require_int("seed", seed, low=0, high=2**32 - 1)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float64) / 16.0
    xtr, xte, ytr, yte = train_test_split(X, y, test_size=test_fraction, random_state=seed, stratify=y)
    mu = xtr.mean(axis=0)
    return Digits(xtr - mu, ytr.astype(np.int64), xte - mu, yte.astype(np.int64), mu, seed, test_fraction)


def binary_labels(digits, task: str) -> np.ndarray:
    """+1 / -1 labels of a binary task on digit classes: ``small_vs_large`` (+1: 0-4), ``parity`` (+1: even)."""
    require_choice("task", task, TASKS)
    dg = np.asarray(digits)
    if dg.ndim != 1 or not np.issubdtype(dg.dtype, np.integer) or dg.size and (dg.min() < 0 or dg.max() > 9):
        raise ValueError("digits must be a 1-D array of integers in [0, 9]")
    positive = dg <= 4 if task == "small_vs_large" else dg % 2 == 0
    return np.where(positive, 1.0, -1.0)


def label_carrier(y, d: int) -> tuple[np.ndarray, np.ndarray]:
    """``(z, w*)`` with ``z = y e_1`` (n, d) and ``w* = e_1``, so that ``sign(<w*, z>) = y`` (module docstring)."""
    y = require_array("y", y, ndim=1)
    d = require_int("d", d, low=1)
    z = np.zeros((y.size, d))
    z[:, 0] = y
    w = np.zeros(d)
    w[0] = 1.0
    return z, w


def learn_dictionary(x, n_atoms: int, *, alpha: float = 0.5, method: str = "minibatch", max_iter: int = 20,
                     batch_size: int = 64, seed: int = 0) -> np.ndarray:
    """Sparse dictionary of ``x`` (n, d): atoms (n_atoms, d) with unit rows, from scikit-learn.

    ``method="minibatch"``: ``MiniBatchDictionaryLearning(n_components=n_atoms, alpha, batch_size,
    max_iter, random_state=seed)``; ``"batch"``: ``DictionaryLearning(n_components=n_atoms, alpha,
    max_iter, random_state=seed)``. Rows are renormalised (scikit-learn already returns unit
    atoms up to rounding) and a zero atom is an error.
    """
    from sklearn.decomposition import DictionaryLearning, MiniBatchDictionaryLearning

    x = require_array("x", x, ndim=2)
    n_atoms = require_int("n_atoms", n_atoms, low=1)
    alpha = require_real("alpha", alpha, low=0.0, low_open=True)
    require_choice("method", method, DICTIONARY_METHODS)
    max_iter = require_int("max_iter", max_iter, low=1)
    batch_size = require_int("batch_size", batch_size, low=1)
    seed = require_int("seed", seed, low=0, high=2**32 - 1)
    if method == "minibatch":
        est = MiniBatchDictionaryLearning(n_components=n_atoms, alpha=alpha, batch_size=batch_size, max_iter=max_iter,
                                          random_state=seed)
    else:
        est = DictionaryLearning(n_components=n_atoms, alpha=alpha, max_iter=max_iter, random_state=seed)
    D = np.asarray(est.fit(x).components_, dtype=np.float64)
    norms = np.linalg.norm(D, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("the learned dictionary has a zero atom; lower alpha or n_atoms")
    return D / norms


@dataclass(frozen=True)
class DictionaryPurity:
    """Per-node purity against a dictionary (module docstring): max cosine, its atom, atoms needed by OMP."""

    max_cosine: np.ndarray  # (m,)
    best_atom: np.ndarray  # (m,) index of the atom achieving it
    atoms_needed: np.ndarray  # (m,) OMP atoms for residual <= 1 - q (max_atoms + 1 if never)
    q: float
    max_atoms: int


def dictionary_purity(W, D, *, q: float = 0.9, max_atoms: int | None = None) -> DictionaryPurity:
    """Purity of each row of ``W`` (m, d) against unit atoms ``D`` (n_atoms, d); zero rows get purity 0."""
    W = require_array("W", W, ndim=2)
    D = require_array("D", D, shape=(None, W.shape[1]))
    q = require_real("q", q, low=0.0, high=1.0, low_open=True, high_open=True)
    dn = np.linalg.norm(D, axis=1)
    if np.any(np.abs(dn - 1.0) > 1e-8):
        raise ValueError("D must have unit rows (atoms); normalise it first")
    K = min(D.shape[0], W.shape[1]) if max_atoms is None else require_int("max_atoms", max_atoms, low=1, high=D.shape[0])
    norms = np.linalg.norm(W, axis=1)
    live = norms > 0
    U = np.zeros_like(W)
    U[live] = W[live] / norms[live, None]
    C = np.abs(U @ D.T)
    best = C.argmax(axis=1)
    cos = np.where(live, C.max(axis=1), 0.0)
    need = np.full(W.shape[0], K + 1, dtype=np.int64)
    need[live] = _omp_atoms_needed(D, U[live], 1.0 - q, K)
    return DictionaryPurity(cos, best, need, q, K)


def _omp_atoms_needed(D: np.ndarray, U: np.ndarray, tol: float, K: int) -> np.ndarray:
    """Smallest number of OMP atoms leaving squared residual <= tol, per unit row of U (K + 1 if never).

    Uses scikit-learn's Gram-matrix OMP (``orthogonal_mp_gram``): its Cholesky variant
    ``orthogonal_mp`` stops early on small coherent dictionaries (3 atoms in R^3 in the tests).
    """
    import warnings

    from sklearn.linear_model import orthogonal_mp_gram

    G = D @ D.T
    out = np.full(U.shape[0], K + 1, dtype=np.int64)
    for j, u in enumerate(U):  # m is small (nodes of one layer); OMP paths differ in length per node
        if u @ u <= tol + 1e-12:
            out[j] = 0
            continue
        with warnings.catch_warnings():
            # OMP stops early (and warns) when the remaining atoms are linearly dependent
            warnings.simplefilter("ignore")
            path = orthogonal_mp_gram(G, D @ u, n_nonzero_coefs=K, return_path=True)
        path = path.reshape(D.shape[0], -1)
        res = np.sum((u[:, None] - D.T @ path) ** 2, axis=0)  # residual after 1, 2, ... atoms
        hit = np.flatnonzero(res <= tol + 1e-12)
        if hit.size:
            out[j] = int(hit[0]) + 1
    return out


def random_direction_purity(D, n: int = 256, *, q: float = 0.9, seed: int = 0) -> DictionaryPurity:
    """The null reference: :func:`dictionary_purity` of ``n`` directions uniform on the sphere (seeded)."""
    D = require_array("D", D, ndim=2)
    n = require_int("n", n, low=1)
    g = np.random.default_rng([require_int("seed", seed, low=0), 4]).standard_normal((n, D.shape[1]))
    return dictionary_purity(g, D, q=q)


def network_dictionary_purity(net, D, x, *, q: float = 0.9, tau: float | None = None, null_n: int = 256,
                              seed: int = 0) -> dict:
    """Activity-weighted purity of a net's first layer against ``D``, beside the random-direction null.

    Returns ``mean_max_cosine`` and ``mean_atoms_needed`` (weights ``E|a_j h_j(x)|`` on ``x``),
    the null's means, ``excess_max_cosine`` (mean minus the null mean), and, when ``tau`` is
    given, ``purified_fraction`` (weight share of nodes with ``max_cosine >= tau``); per-node
    arrays under ``nodes``. ``net``: a :class:`~numerics.networks.TwoLayerNet` (or anything
    with ``W, a, b, activation, d, m``).
    """
    x = require_array("x", x, ndim=2)
    pur = dictionary_purity(net.W, D, q=q)
    null = random_direction_purity(D, null_n, q=q, seed=seed)
    w = node_weights(net, x, "activity")
    out = {"mean_max_cosine": float(w @ pur.max_cosine), "mean_atoms_needed": float(w @ pur.atoms_needed),
           "null_mean_max_cosine": float(null.max_cosine.mean()),
           "null_mean_atoms_needed": float(null.atoms_needed.mean()), "q": q, "max_atoms": pur.max_atoms}
    out["excess_max_cosine"] = out["mean_max_cosine"] - out["null_mean_max_cosine"]
    if tau is not None:
        tau = require_real("tau", tau, low=0.0, high=1.0)
        out["purified_fraction"] = float(w[pur.max_cosine >= tau].sum())
        out["tau"] = tau
    out["nodes"] = {"max_cosine": pur.max_cosine.tolist(), "atoms_needed": pur.atoms_needed.tolist(),
                    "weight": w.tolist()}
    return out
