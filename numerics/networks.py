"""Two-layer networks ``f(x) = sum_j a_j act(<W_j, x>; b_j)`` and the structured families.

Families (docs/model.md §2): the pure net (``W_j = M_j``, ``a = lambda w*``), the mixed
net along a mixing path (``W_j = M Q e_j``, ``a = lambda Q^T w*``, ``Q(t) = expm(t A)``),
the linear net (``f = lambda <M w*, x>``) and arbitrary weights. numpy for exact work;
:func:`numerics.torch_nets.to_torch` gives the same function as a ``torch.nn.Module`` for
training and attacks (this module imports nothing from torch).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .activations import ACTIVATIONS, activate
from .validation import require_array, require_choice, require_real


@dataclass(frozen=True)
class TwoLayerNet:
    """``f(x) = sum_j a[j] * act(W[j] @ x; b[j]) + c``.

    W: (m, d) first layer (rows are nodes); a: (m,) head; b: (m,) thresholds (soft
    threshold, ``b >= 0``) or intercepts (ReLU); c: output bias. ``family`` records how the
    net was built (``pure``, ``mixed``, ``linear``, ``arbitrary``) with its parameters so
    that exact engines can recognise structure without guessing.
    """

    W: np.ndarray
    a: np.ndarray
    b: np.ndarray
    activation: str = "soft_threshold"
    c: float = 0.0
    family: str = "arbitrary"
    params: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        W = require_array("W", self.W, ndim=2)
        m = W.shape[0]
        a = require_array("a", self.a, shape=(m,))
        b = require_array("b", self.b)
        if b.ndim == 0:  # one threshold shared by every node
            b = np.full(m, float(b))
        b = require_array("b", b, shape=(m,))
        require_choice("activation", self.activation, ACTIVATIONS)
        if self.activation == "soft_threshold" and np.any(b < 0):
            raise ValueError(f"b must be >= 0 for the soft threshold, got min {b.min():g}")
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "c", require_real("c", self.c))

    @property
    def m(self) -> int:
        return self.W.shape[0]

    @property
    def d(self) -> int:
        return self.W.shape[1]

    def preactivation(self, x: np.ndarray) -> np.ndarray:
        x = require_array("x", x, shape=(None, self.d))
        return x @ self.W.T

    def hidden(self, x: np.ndarray) -> np.ndarray:
        """Representation ``h(x)`` (n, m)."""
        return activate(self.activation, self.preactivation(x), self.b)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.hidden(x) @ self.a + self.c

    def is_linear(self) -> bool:
        """True when the function is exactly linear: soft threshold with all ``b = 0``."""
        return self.activation == "soft_threshold" and bool(np.all(self.b == 0))

    def linear_part(self) -> tuple[np.ndarray, float]:
        """``(v, c)`` with ``f(x) = <v, x> + c``; only for :meth:`is_linear` nets."""
        if not self.is_linear():
            raise ValueError("linear_part needs a soft-threshold net with b = 0 (a linear function)")
        return self.a @ self.W, self.c


def pure_net(M: np.ndarray, wstar: np.ndarray, b: float, lam: float = 1.0) -> TwoLayerNet:
    """The pure net: node j reads feature j (``W_j = M_j``), ``a = lambda w*``, threshold b."""
    M = require_array("M", M, ndim=2)
    d = M.shape[0]
    w = require_array("wstar", wstar, shape=(d,))
    b = require_real("b", b, low=0.0)
    lam = require_real("lam", lam)
    # W is a read-only transposed view of M (no copy): the exact engine recognises the pure layer in O(1) by
    # its memory, and at d = 10,000 a copy would be 800 MB.
    W = M.T.view()
    W.flags.writeable = False
    return TwoLayerNet(W=W, a=lam * w, b=np.full(d, b), family="pure", params={"b": b, "lam": lam})


def mixing_path(A: np.ndarray, t: float) -> np.ndarray:
    """``Q(t) = expm(t A)`` for a skew-symmetric ``A``: orthogonal, ``Q(0) = I``."""
    A = require_array("A", A, ndim=2)
    if A.shape[0] != A.shape[1] or not np.allclose(A, -A.T, atol=1e-12):
        raise ValueError("A must be a square skew-symmetric matrix (A = -A^T)")
    t = require_real("t", t)
    from scipy.linalg import expm  # imported here: scipy.linalg costs ~0.3 s at import

    return expm(t * A)


def mixed_net(M: np.ndarray, wstar: np.ndarray, Q: np.ndarray, b: float, lam: float = 1.0) -> TwoLayerNet:
    """Mixed net ``W_j = M Q e_j``, ``a = lambda Q^T w*``; with ``b = 0`` it equals the linear net for every Q."""
    M = require_array("M", M, ndim=2)
    d = M.shape[0]
    Q = require_array("Q", Q, shape=(d, d))
    if not np.allclose(Q.T @ Q, np.eye(d), atol=1e-8):
        raise ValueError("Q must be orthogonal (Q^T Q = I)")
    w = require_array("wstar", wstar, shape=(d,))
    b = require_real("b", b, low=0.0)
    lam = require_real("lam", lam)
    W = (M @ Q).T.copy()
    return TwoLayerNet(W=W, a=lam * (Q.T @ w), b=np.full(d, b), family="mixed", params={"b": b, "lam": lam})


def linear_net(M: np.ndarray, wstar: np.ndarray, lam: float = 1.0) -> TwoLayerNet:
    """``f(x) = lambda <M w*, x>`` as a one-node soft-threshold net with b = 0 (fully dense)."""
    M = require_array("M", M, ndim=2)
    w = require_array("wstar", wstar, shape=(M.shape[0],))
    lam = require_real("lam", lam)
    v = M @ w
    norm = np.linalg.norm(v)
    if norm == 0:
        raise ValueError("wstar must be non-zero")
    return TwoLayerNet(W=(v / norm)[None, :], a=np.array([lam * norm]), b=np.zeros(1), family="linear", params={"lam": lam})

