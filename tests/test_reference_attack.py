"""Our PGD against the reference library torchattacks 3.5.1 (PGD and PGDL2) on the same nets.

torchattacks attacks classifiers on images in [0, 1] with a cross-entropy loss. The
adapter feeds ``x`` as ``(N, 1, 1, d)`` images shifted by a constant per coordinate into
the box (the net undoes the shift, so the library's clamp to [0, 1] never binds) and turns
the score f into the logits ``(-f/2, f/2)``: the cross entropy is ``softplus(-y f)``, whose
gradient is a positive multiple of ``-y grad f``. Normalised (l2) or signed (l_inf), the
library's step is then exactly ours, so from ``delta = 0`` both follow the same trajectory.
The library returns its last iterate and ours the best one: we rerun the library for every
step count and compare our result with its best iterate.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

torchattacks = pytest.importorskip(
    "torchattacks",
    reason="reference library not installed: pip install torchattacks==3.5.1 --no-deps (extra 'reference')",
)

from numerics.attacks.linear import linear_min_margin  # noqa: E402
from numerics.attacks.pgd import pgd_attack  # noqa: E402
from numerics.networks import TwoLayerNet  # noqa: E402
from numerics.torch_nets import to_torch  # noqa: E402

D, N, STEPS = 12, 40, 8
SHIFT = 0.5  # x in [-0.25, 0.25]^d, eps <= 0.2: images stay inside [0.05, 0.95]
TOL = 1e-12  # float64 trajectories of the two implementations (library divides by ||g|| + 1e-300)


class ImageAdapter(nn.Module):
    """``(N, 1, 1, d)`` images in [0, 1] -> logits ``(-f/2, f/2)`` of the score ``f(image - SHIFT)``."""

    def __init__(self, score: nn.Module):
        super().__init__()
        self.flatten = nn.Flatten()
        self.score = score

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        f = self.score(self.flatten(img) - SHIFT).reshape(-1)
        return torch.stack([-f / 2, f / 2], dim=1)


class MLP(nn.Module):
    """A three-layer score that only the autograd path of our PGD can attack."""

    def __init__(self, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(D, 16), nn.Tanh(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 1)).double()

    def forward(self, x):
        return self.net(x).reshape(-1)


def _data(seed: int):
    rng = np.random.default_rng(seed)
    x = torch.as_tensor(rng.uniform(-0.25, 0.25, (N, D)))
    y = torch.as_tensor(np.where(rng.random(N) < 0.5, -1.0, 1.0))
    return x, y


def _net(seed: int, activation: str) -> TwoLayerNet:
    rng = np.random.default_rng(seed)
    m = 20
    return TwoLayerNet(W=rng.standard_normal((m, D)) * 0.6, a=rng.standard_normal(m) / np.sqrt(m),
                       b=rng.uniform(0.0, 0.3, m), activation=activation, c=0.05)


def _reference_best(score: nn.Module, x, y, eps, norm, alpha):
    """torchattacks from delta = 0, rerun with 0..STEPS steps: best iterate and its margin."""
    model = ImageAdapter(score)
    labels = (y > 0).long()
    best_m = torch.full((N,), float("inf"), dtype=x.dtype)
    best_d = torch.zeros_like(x)
    for k in range(STEPS + 1):
        if norm == "l2":
            atk = torchattacks.PGDL2(model, eps=eps, alpha=alpha, steps=k, random_start=False, eps_for_division=1e-300)
        else:
            atk = torchattacks.PGD(model, eps=eps, alpha=alpha, steps=k, random_start=False)
        adv = atk((x + SHIFT).view(N, 1, 1, D), labels).view(N, D)
        delta = adv - (x + SHIFT)
        with torch.no_grad():
            margin = y * score(x + delta).reshape(-1)
        better = margin < best_m
        best_m = torch.where(better, margin, best_m)
        best_d = torch.where(better[:, None], delta, best_d)
    return best_d, best_m


CASES = [("soft_threshold", "l2", 0.2), ("soft_threshold", "linf", 0.05), ("relu", "l2", 0.2), ("relu", "linf", 0.05)]


@pytest.mark.parametrize("activation,norm,eps", CASES)
def test_trajectory_matches_torchattacks_on_two_layer_nets(activation, norm, eps):
    x, y = _data(1)
    net = _net(2, activation)
    alpha = 2.5 * eps / STEPS
    ref_d, ref_m = _reference_best(to_torch(net), x, y, eps, norm, alpha)
    ours = pgd_attack(net, x, y, eps, norm, steps=STEPS, restarts=1, step_size=alpha, zero_start=True)
    with torch.no_grad():
        ours_m = y * to_torch(net)(x + ours)
    assert torch.max(torch.abs(ours_m - ref_m)) <= TOL, f"margins differ from torchattacks by more than {TOL}"
    assert torch.max(torch.abs(ours - ref_d)) <= TOL, f"perturbations differ from torchattacks by more than {TOL}"
    # the comparison is not vacuous: the attack moved the margin on most samples
    clean = y * to_torch(net)(x)
    assert (clean - ours_m > 1e-3).float().mean() > 0.5, "attack barely moved the margins: weak test"


@pytest.mark.parametrize("norm,eps", [("l2", 0.2), ("linf", 0.05)])
def test_autograd_path_matches_torchattacks_on_a_deeper_net(norm, eps):
    x, y = _data(3)
    score = MLP(4)
    alpha = 2.5 * eps / STEPS
    ref_d, ref_m = _reference_best(score, x, y, eps, norm, alpha)
    ours = pgd_attack(score, x, y, eps, norm, steps=STEPS, restarts=1, step_size=alpha, zero_start=True)
    with torch.no_grad():
        ours_m = y * score(x + ours)
    assert torch.max(torch.abs(ours_m - ref_m)) <= TOL, f"margins differ from torchattacks by more than {TOL}"
    assert torch.max(torch.abs(ours - ref_d)) <= TOL, f"perturbations differ from torchattacks by more than {TOL}"


def test_random_start_linf_both_reach_the_exact_linear_optimum():
    """On a linear net l_inf PGD from any start ends at ``-eps y sign(v)``: both libraries, exactly."""
    x, y = _data(5)
    rng = np.random.default_rng(6)
    net = TwoLayerNet(W=rng.standard_normal((3, D)), a=rng.standard_normal(3) / 4, b=np.zeros(3), c=0.1)
    eps, steps = 0.05, 10
    exact = linear_min_margin(y.numpy() * net(x.numpy()), net.a @ net.W, eps, "linf")
    torch.manual_seed(7)  # torchattacks draws its random start from the global generator
    atk = torchattacks.PGD(ImageAdapter(to_torch(net)), eps=eps, alpha=2.5 * eps / steps, steps=steps, random_start=True)
    adv = atk((x + SHIFT).view(N, 1, 1, D), (y > 0).long()).view(N, D) - SHIFT
    ref_m = y.numpy() * net(adv.numpy())
    ours = pgd_attack(net, x, y, eps, "linf", steps=steps, restarts=3, step_size=2.5 * eps / steps, seed=8)
    ours_m = y.numpy() * net((x + ours).numpy())
    np.testing.assert_allclose(ref_m, exact, atol=1e-12, err_msg="torchattacks off the exact value by > 1e-12")
    np.testing.assert_allclose(ours_m, exact, atol=1e-12, err_msg="our PGD off the exact value by > 1e-12")
