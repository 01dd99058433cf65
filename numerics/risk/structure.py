"""Structure the exact engines recognise: feature-aligned soft-threshold nets, signed
permutations, and torch modules that are two-layer (or linear) nets in disguise.

:func:`as_two_layer` turns a :class:`~numerics.torch_nets.TorchTwoLayer` or a plain
``nn.Sequential`` of the forms below into the equal :class:`~numerics.networks.TwoLayerNet`
(float64 weights), so that every engine for two-layer nets applies to it:

- ``Linear(d, k), Linear(k, l), ..., Linear(., 1)`` (any number, biases allowed): a linear
  score, ``f(x) = <v, x> + c``;
- ``Linear(d, m), ReLU(), Linear(m, 1)``: ``f(x) = sum_j a_j ReLU(<W_j, x> + b_j) + c``;

each optionally followed by ``Flatten`` / ``Identity`` (which only reshape the n scores).
Anything else is an opaque module: the risk engines attack it through autograd.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..networks import TwoLayerNet

ALIGN_RTOL = 1e-10  # off-feature loadings below this (relative) make a node "reads one feature"


@dataclass(frozen=True)
class FeatureForm:
    """``f(x) = sum_i coef_i soft(<M_i, x>, thr_i) + c``: a soft-threshold net whose nodes each read one feature."""

    coef: np.ndarray  # (d,) 0 for features no node reads
    thr: np.ndarray  # (d,)
    c: float
    off_loading: float  # largest ignored off-feature loading, relative to the node's main loading


def _is_transpose_of(W: np.ndarray, M: np.ndarray) -> bool:
    """``W == M.T`` elementwise: O(1) when W is a transposed view of M's memory, else a full comparison."""
    if W.shape != M.shape[::-1]:
        return False
    if (W.ctypes.data == M.ctypes.data and W.strides == M.strides[::-1] and W.dtype == M.dtype):
        return True  # the same memory read transposed: equal by construction, whatever it holds
    return bool(np.array_equal(W, M.T))


def feature_form(net: TwoLayerNet, M: np.ndarray, rtol: float = ALIGN_RTOL) -> FeatureForm | None:
    """The per-feature form of ``net`` when every node with ``a_j != 0`` reads one feature, else ``None``.

    Node j with ``W_j = w_j M_i`` computes ``a_j soft(w_j <M_i, x>, b_j) = a_j w_j soft(<M_i, x>, b_j/|w_j|)``
    (the soft threshold is odd and ``soft(w t, b) = w soft(t, b/|w|)``), so
    ``coef_i = a_j w_j`` and ``thr_i = b_j / |w_j|``; two nodes may not read the same feature.
    The pure layer ``W = M^T`` is recognised without the d^3 product (in O(1) when ``W`` is a
    transposed view of ``M`` itself).
    """
    if net.activation != "soft_threshold":
        return None
    d = net.d
    if net.W.shape == (d, d) and _is_transpose_of(net.W, M):  # the pure layer: skip the d^3 product
        return FeatureForm(net.a.copy(), net.b.copy(), net.c, 0.0)
    live = (net.a != 0) & np.any(net.W != 0, axis=1)
    C = net.W[live] @ M  # loadings of each live node on the features
    coef, thr = np.zeros(d), np.zeros(d)
    if C.shape[0] == 0:
        return FeatureForm(coef, thr, net.c, 0.0)
    main = np.argmax(np.abs(C), axis=1)
    w = C[np.arange(C.shape[0]), main]
    off = np.abs(C).copy()
    off[np.arange(C.shape[0]), main] = 0.0
    rel = float(np.max(off.max(axis=1) / np.abs(w)))
    if rel > rtol or np.unique(main).size != main.size:
        return None
    coef[main] = net.a[live] * w
    thr[main] = net.b[live] / np.abs(w)
    return FeatureForm(coef, thr, net.c, rel)


def signed_permutation(M: np.ndarray) -> bool:
    """Whether ``M`` is a signed permutation matrix (entries 0 / +-1, one per row and column)."""
    A = np.abs(M)
    return bool(np.all((A == 0) | (A == 1)) and np.all(A.sum(axis=0) == 1) and np.all(A.sum(axis=1) == 1))


# --------------------------------------------------------------------------- torch modules


def as_two_layer(net) -> tuple[TwoLayerNet | None, str]:
    """``(TwoLayerNet, how)`` equal to ``net`` when its structure is recognised, else ``(None, why)``.

    ``net``: a :class:`TwoLayerNet` (returned as is), an object with ``to_net()`` (a
    :class:`~numerics.torch_nets.TorchTwoLayer`), or a torch module (module docstring).
    """
    if isinstance(net, TwoLayerNet):
        return net, "two-layer net"
    if hasattr(net, "to_net"):
        if getattr(net, "runs", None) is not None:
            raise ValueError(f"net must be a single net, got a module holding {net.runs} runs (pass net.run(r))")
        return net.to_net(), f"{type(net).__name__} (two-layer net)"
    try:
        from torch import nn
    except ImportError:  # pragma: no cover - torch is a dependency
        return None, "not a torch module"
    if not isinstance(net, nn.Module):
        return None, f"not a TwoLayerNet or torch.nn.Module ({type(net).__name__})"
    layers = list(net) if isinstance(net, nn.Sequential) else [net]
    while layers and isinstance(layers[-1], (nn.Flatten, nn.Identity)):
        layers.pop()
    kinds = ["linear" if isinstance(l, nn.Linear) else "relu" if isinstance(l, nn.ReLU) else None for l in layers]
    if not layers or None in kinds:
        return None, f"opaque module {type(net).__name__} (not a recognised linear or two-layer ReLU stack)"
    as_np = lambda t: t.detach().cpu().double().numpy()  # noqa: E731
    if kinds == ["linear"] * len(kinds):
        v, c = np.eye(layers[0].in_features), np.zeros(layers[0].in_features)
        for lin in layers:  # compose x -> A x + c through the chain
            A = as_np(lin.weight)
            c = A @ c + (as_np(lin.bias) if lin.bias is not None else 0.0)
            v = A @ v
        if v.shape[0] != 1:
            return None, f"linear stack with {v.shape[0]} outputs (one score per row needed)"
        return (TwoLayerNet(W=v, a=np.ones(1), b=np.zeros(1), c=float(c[0]), family="linear",
                            params={"from": type(net).__name__}), "linear stack of torch layers")
    if kinds == ["linear", "relu", "linear"] and layers[2].out_features == 1:
        first, head = layers[0], layers[2]
        b = as_np(first.bias) if first.bias is not None else np.zeros(first.out_features)
        c = float(as_np(head.bias)[0]) if head.bias is not None else 0.0
        return (TwoLayerNet(W=as_np(first.weight), a=as_np(head.weight)[0], b=b, activation="relu", c=c,
                            family="arbitrary", params={"from": type(net).__name__}),
                "Linear-ReLU-Linear stack as a two-layer ReLU net")
    return None, f"opaque module {type(net).__name__} (layers {kinds} are not a recognised stack)"
