"""`purecheck risk`: exact values against independent computations, and one-line errors on bad input."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize

from purecheck.cli import main

D, P, B = 10, 0.2, 0.3
W = [1 / math.sqrt(D)] * D


def toml(kind="pure", eps=(0.0, 0.1, 0.2, 0.4, 0.8, 1.5), norm="l2", b=B, extra_network="", model_extra="", method='kind = "auto"'):
    return f"""
[model]
d = {D}
p = {P}
sigma = 0.0
magnitude = 1.0
dictionary = "identity"
seed = 0
{model_extra}
[task]
wstar = {json.dumps(W)}
[network]
kind = "{kind}"
b = {b}
scale = 1.0
{extra_network}
[attack]
norm = "{norm}"
eps = {json.dumps(list(eps))}
[method]
{method}
"""


def run(tmp_path: Path, text: str, capsys) -> tuple[int, dict | None, str]:
    f = tmp_path / "job.toml"
    f.write_text(text)
    code = main(["risk", str(f), "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def count_law():
    """(n_plus, n_minus, probability) of active +1 / -1 features for d, p (multinomial)."""
    for npl in range(D + 1):
        for nmi in range(D + 1 - npl):
            prob = math.comb(D, npl) * math.comb(D - npl, nmi) * (P / 2) ** (npl + nmi) * (1 - P) ** (D - npl - nmi)
            yield npl, nmi, prob


def pure_drop(n_help: int, n_hurt: int, eps: float, b: float) -> float:
    """Independent exact l2 attack on the pure net for uniform w*: enumerate how many helping and
    inactive features are pushed through their dead zones; water-fill each choice with brentq."""
    c = 1 / math.sqrt(D)
    n_zero = D - n_help - n_hurt
    alpha = 1 - b
    best = 0.0
    for ph in range(n_help + 1):
        for p0 in range(n_zero + 1):
            lin = n_hurt + ph + p0
            unp = n_help - ph
            if lin == 0 and unp == 0:
                continue
            budget = lambda tau: lin * (c * tau) ** 2 + unp * min(c * tau, alpha) ** 2 - eps**2  # noqa: E731
            if lin == 0 and budget(1e9) <= 0:
                tau = alpha / c  # every unpushed feature saturates within the budget
            else:
                tau = optimize.brentq(budget, 0.0, 1e6, xtol=1e-15, rtol=1e-15)
            val = c * lin * c * tau - c * (ph * 2 * b + p0 * b) + unp * c * min(c * tau, alpha)
            best = max(best, val)
    return best


def independent_errors(kind: str, eps: float, b: float = B) -> float:
    c = 1 / math.sqrt(D)
    err = 0.0
    for npl, nmi, prob in count_law():
        if npl == nmi:
            err += prob  # tie: y = 0 is an error for every net
            continue
        h, u = max(npl, nmi), min(npl, nmi)
        if kind == "linear":
            margin, drop = c * (h - u), eps * 1.0  # ||w*|| = 1
        else:
            margin, drop = (1 - b) * c * (h - u), pure_drop(h, u, eps, b)
        err += prob * (margin - drop <= 1e-12)
    return err


@pytest.mark.parametrize("kind", ["linear", "pure"])
def test_exact_values_match_independent_computations(tmp_path, capsys, kind):
    code, out, _ = run(tmp_path, toml(kind), capsys)
    assert code == 0
    assert out["clean_error"]["method"] == "exact"
    assert abs(out["clean_error"]["value"] - independent_errors(kind, 0.0)) < 1e-9
    for row in out["robust_error"]:
        want = independent_errors(kind, row["eps"])
        assert row["method"] == "exact" and row["lower"] == pytest.approx(row["upper"], abs=1e-9)
        assert abs(row["value"] - want) < 1e-9, f"{kind} eps={row['eps']}: {row['value']} vs independent {want} (tol 1e-9)"


def test_regimes_differ_inside_and_outside_the_easy_regime():
    # Sanity of the independent solver itself: inside eps <= b the drop is eps ||w*_S||; past it pushing pays.
    c = 1 / math.sqrt(D)
    assert pure_drop(2, 0, 0.2, B) == pytest.approx(0.2 * math.sqrt(2) * c, abs=1e-12)
    assert pure_drop(1, 0, 1.5, B) > 1.5 * c  # uses inactive features beyond the active one


def test_mixed_net_with_zero_threshold_is_exactly_linear(tmp_path, capsys):
    code, mixed, _ = run(tmp_path, toml("mixed", b=0.0, extra_network="t = 0.7\nmixing_seed = 3"), capsys)
    _, lin, _ = run(tmp_path, toml("linear"), capsys)
    assert code == 0
    for a, b in zip(mixed["robust_error"], lin["robust_error"]):
        assert a["method"] == "exact" and abs(a["value"] - b["value"]) < 1e-12


def test_mixed_net_at_t0_is_the_pure_net(tmp_path, capsys):
    _, mixed, _ = run(tmp_path, toml("mixed", extra_network="t = 0.0"), capsys)
    _, pure, _ = run(tmp_path, toml("pure"), capsys)
    for a, b in zip(mixed["robust_error"], pure["robust_error"]):
        assert abs(a["value"] - b["value"]) < 1e-12


def test_mixed_net_gets_an_interval_from_attack_and_certificate(tmp_path, capsys):
    code, out, _ = run(tmp_path, toml("mixed", eps=(0.2,), extra_network="t = 0.3",
                                      method='kind = "bound"\nsamples = 3000\nseed = 1'), capsys)
    assert code == 0
    row = out["robust_error"][0]
    assert row["method"] == "bound" and row["n"] == 3000 and row["lower"] <= row["value"] <= row["upper"]
    # no attack in a clean quantity: the robust engines mean Monte Carlo over exact clean margins
    assert out["clean_error"]["method"] == "mc" and out["clean_error"]["n"] == 3000


def test_every_method_kind_is_accepted(tmp_path, capsys):
    for kind, want in (("verified", "verified"), ("attack", "attack"), ("mc", "bound")):
        code, out, err = run(tmp_path, toml("mixed", eps=(0.2,), extra_network="t = 0.3",
                                            method=f'kind = "{kind}"\nsamples = 200\nseed = 1'), capsys)
        assert code == 0, err
        assert out["robust_error"][0]["method"] == want, kind


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`purecheck risk job.toml | head`: the reader leaves early; no traceback, SIGPIPE's status."""
    f = tmp_path / "job.toml"
    f.write_text(toml("linear", eps=tuple(0.01 * i for i in range(400))))
    proc = subprocess.Popen([sys.executable, "-m", "purecheck", "risk", str(f), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first write
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert code == 141 and err == "", (code, err)


@pytest.mark.parametrize("edit, field", [
    (("d = 10", "d = -3"), "model.d"),
    (("p = 0.2", "p = 1.5"), "model.p"),
    (("kind = \"pure\"", "kind = \"conv\""), "network.kind"),
    (("eps = [0.0", "eps = [-0.1"), "attack.eps"),
    (("wstar = [", "wstar = [1.0, "), "task.wstar"),
    (("norm = \"l2\"", "norm = \"l3\""), "attack.norm"),
    (("kind = \"auto\"", "kind = \"mc\"\nsamples = 100000000000"), "method.samples"),  # 745 GiB, not a traceback
])
def test_bad_input_exits_2_with_one_line_naming_the_field(tmp_path, capsys, edit, field):
    code, _, err = run(tmp_path, toml().replace(*edit, 1), capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"purecheck risk: error: {field}"), lines


def test_exact_method_refuses_what_it_cannot_compute(tmp_path, capsys):
    code, _, err = run(tmp_path, toml("mixed", extra_network="t = 0.3", method='kind = "exact"'), capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_console_script_entry_point_runs(tmp_path):
    f = tmp_path / "job.toml"
    f.write_text(toml("linear", eps=(0.1,)))
    res = subprocess.run([sys.executable, "-m", "purecheck", "risk", str(f), "--json"], capture_output=True, text=True)
    assert res.returncode == 0 and json.loads(res.stdout)["robust_error"][0]["method"] == "exact"
