"""numerics.activations: one sign convention, numpy = torch, the in-place hot-path kernels bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from numerics.activations import (activate, activate_, activation_slope, b_for_dead_zone, breakpoints,
                                  relu_intercept, slope_times_, smooth_threshold, soft_threshold)

B = np.array([0.0, 0.3, 0.5, 1.0])
# a grid through every kink t = +-b exactly, plus the kinks themselves
T = np.concatenate([np.linspace(-2, 2, 401)[:, None].repeat(4, axis=1), B[None], -B[None]])


def test_soft_threshold_is_the_relu_difference_with_a_dead_zone():
    want = np.maximum(T - B, 0) - np.maximum(-T - B, 0)
    assert np.array_equal(soft_threshold(T, B), want), "t - clip(t, -b, b) must equal ReLU(t-b) - ReLU(-t-b) exactly"
    assert np.array_equal(soft_threshold(T[:, 0], 0.0), T[:, 0]), "b = 0 is the identity"
    assert np.all(soft_threshold(T, B)[np.abs(T) <= B] == 0), "zero on the dead zone [-b, b]"
    assert np.array_equal(soft_threshold(-T, B), -soft_threshold(T, B)), "odd"
    assert soft_threshold(np.array([1.7]), 0.5)[0] == pytest.approx(1.2, abs=1e-15)


def test_relu_with_intercept_and_dead_zone_conversion():
    assert np.array_equal(relu_intercept(T, B), np.maximum(T + B, 0))
    assert relu_intercept(np.array([-0.2]), 0.3)[0] == pytest.approx(0.1, abs=1e-15), "ReLU(t + b), not ReLU(t - b)"
    tau = np.array([0.0, 0.4])
    assert np.array_equal(b_for_dead_zone("soft_threshold", tau), tau)
    assert np.array_equal(b_for_dead_zone("relu", tau), -tau)
    # the dead zone of ReLU(t + b) ends at t = -b = tau
    assert np.all(relu_intercept(np.array([0.4, 0.41]), b_for_dead_zone("relu", 0.4)) == [0.0, 0.41 - 0.4])


@pytest.mark.parametrize("kind", ["soft_threshold", "relu"])
def test_numpy_and_torch_agree_and_slopes_are_zero_at_kinks(kind):
    t, b = torch.as_tensor(T), torch.as_tensor(B)
    assert np.array_equal(activate(kind, t, b).numpy(), activate(kind, T, B)), "torch != numpy"
    slope = activation_slope(kind, T, B)
    assert np.array_equal(activation_slope(kind, t, b).numpy(), slope)
    kinks = np.abs(T) == B if kind == "soft_threshold" else T == -B
    assert np.all(slope[kinks] == 0), "the slope is 0 at a kink (PGD's convention)"
    h = 1e-7
    fd = (activate(kind, T + h, B) - activate(kind, T - h, B)) / (2 * h)
    away = ~np.any(np.abs(np.abs(T)[..., None] - B[..., None]) < 1e-3, axis=-1) if kind == "soft_threshold" else \
        np.abs(T + B) > 1e-3
    np.testing.assert_allclose(slope[away], fd[away], atol=1e-6, err_msg="slope off central differences")


@pytest.mark.parametrize("kind", ["soft_threshold", "relu"])
@pytest.mark.parametrize("uniform", [False, True])
def test_in_place_kernels_are_bit_for_bit_the_reference(kind, uniform):
    t = torch.as_tensor(T, dtype=torch.float32)
    b = torch.full((4,), 0.3) if uniform else torch.as_tensor(B, dtype=torch.float32)
    ref = activate(kind, t, b)
    got = activate_(kind, t.clone(), b, uniform_b=0.3 if uniform and kind == "soft_threshold" else None)
    assert torch.equal(got, ref), "activate_ differs from activate"
    a = torch.randn(4, generator=torch.Generator().manual_seed(0))
    want = a * activation_slope(kind, t, b)
    assert torch.equal(slope_times_(ref, a), want), "a * act' from the output differs from a * activation_slope"
    assert torch.equal(slope_times_(ref.clone(), a, out=ref), want), "in place (out = h) differs"


def test_breakpoints_and_smooth_threshold_limits():
    assert np.array_equal(breakpoints("soft_threshold", [0.2, 0.5]), [[-0.2, 0.2], [-0.5, 0.5]])
    assert np.array_equal(breakpoints("relu", [0.2, -0.5]), [[-0.2], [0.5]])
    gap = np.abs(smooth_threshold(T, B, 50.0) - soft_threshold(T, B)).max()
    assert gap <= np.log(2) / 50.0 + 1e-12
    # torch's softplus is linear beyond 20 (error e^-20 / beta): numpy and torch agree to 1e-10
    assert torch.allclose(smooth_threshold(torch.as_tensor(T), torch.as_tensor(B), 50.0),
                          torch.as_tensor(smooth_threshold(T, B, 50.0)), rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match=r"^activation must be one of"):
        activate("tanh", T, B)


def _clamp_autograd(t, b):  # the formula autograd differentiates without the fused backward
    return t - torch.clamp(t, -b, b)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("b_shape", [(3, 1, 8), (3, 1, 1), (8,), (3, 40, 8)])
@pytest.mark.parametrize("with_zero", [False, True])
@pytest.mark.parametrize("upstream_layout", ["contiguous", "transposed"])
def test_soft_threshold_gradients_are_autograd_through_the_clamp(dtype, b_shape, with_zero, upstream_layout):
    # The fused backward (numerics.activations._soft_threshold_autograd) must give, bit for bit,
    # what autograd gives through t - clamp(t, -b, b): values, d/dt and d/db summed to b's
    # broadcast shape, with inputs on both kinks t = +-b. A b with a zero takes the plain path.
    # A transposed upstream gradient (what a runs net's head hands back) takes the copy to t's
    # layout: the same numbers.
    g = torch.Generator().manual_seed(len(b_shape) + with_zero)
    b0 = torch.rand(b_shape, generator=g, dtype=dtype) * 0.5 + 0.05
    if with_zero:
        b0.view(-1)[0] = 0.0
    t0 = torch.randn((3, 40, 8), generator=g, dtype=dtype)
    edge = b0.expand(t0.shape).reshape(-1)
    t0.view(-1)[:30], t0.view(-1)[30:60] = edge[:30], -edge[30:60]  # exactly on the kinks
    upstream = torch.randn(t0.shape, generator=g, dtype=dtype)
    if upstream_layout == "transposed":
        upstream = upstream.transpose(-1, -2).contiguous().transpose(-1, -2)
        assert not upstream.is_contiguous()
    got = []
    for f in (_clamp_autograd, soft_threshold):
        t, b = t0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
        out = f(t, b)
        out.backward(upstream)
        got.append((out.detach(), t.grad, b.grad, type(out.grad_fn).__name__))
    (v0, gt0, gb0, _), (v1, gt1, gb1, fn) = got
    assert torch.equal(v1, v0), "soft threshold values differ from t - clamp(t, -b, b)"
    assert torch.equal(gt1, gt0), "d/dt differs from autograd through the clamp"
    assert torch.equal(gb1, gb0), "d/db differs from autograd through the clamp"
    assert (fn == "_SoftThresholdFunctionBackward") != with_zero, f"wrong path taken: {fn}"


def test_soft_threshold_fused_path_needs_only_the_gradients_asked_for():
    t = torch.randn((5, 4), requires_grad=True)
    b = torch.full((4,), 0.2)  # a fixed threshold: no gradient for b
    soft_threshold(t, b).sum().backward()
    assert torch.equal(t.grad, (t.detach().abs() > 0.2).to(t.dtype)), "d/dt of sum(act) is the live mask"
    assert b.grad is None
