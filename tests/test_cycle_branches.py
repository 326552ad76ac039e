"""Cycle branches that go all the way (`gru_bif.periodic.continue_cycles`): mesh
adaptation, integral-norm steps, genuine special points, located ends.

Truth:

- a subcritical oscillator with a closed Hopf-to-Hopf branch, `r' = r g(r², p)`,
  `g = 1/4 − p² + b r² − r⁴` with a phase speed `1 + 0.3 x` (so the orbits are not
  circles in time): Hopf points at `p = ±1/2`, folds of cycles where the two roots of
  `g = 0` in `r²` merge, `1/4 − p² = −b²/4`, i.e. `p = ±√(1/4 + b²/4)`;
- the Bogdanov–Takens normal form at `b2 = −1/4`: the cycles born at the Hopf point
  `b1 = 0` end at the homoclinic orbit whose `b1` is found by shooting on the saddle's
  manifolds (`test_homoclinic.shooting_b1`, independent of gru_bif);
- AUTO's demo `ab` (slow): the homoclinic `D` from shooting and bisection on the
  saddle's manifolds (`homoclinic_reference.py`, independent of gru_bif).
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif.branch import SpecialKind
from gru_bif.models.normal_forms import bogdanov_takens_field
from gru_bif.periodic import continue_cycles, cycle_from_hopf


def oscillator(t, x, a):
    rho = x[0] ** 2 + x[1] ** 2
    g = 0.25 - a["p"] ** 2 + a["b"] * rho - rho**2
    w = 1.0 + 0.3 * x[0]
    return jnp.stack([g * x[0] - w * x[1], w * x[0] + g * x[1]])


@pytest.fixture(scope="module")
def closed_branch():
    pr = gru_bif.Problem(oscillator, {"p": -1.0, "b": 0.5}, "p")
    eq = gru_bif.continuation(pr, jnp.zeros(2), -1.0, p_min=-1, p_max=1, ds=0.05)
    # subcritical: the cycles exist on the stable side of the Hopf point p = -1/2
    cp, u0 = cycle_from_hopf(pr, eq, 0, dp=-1e-3)
    return eq, continue_cycles(cp, u0, p_min=-1, p_max=1)


def test_hopf_to_hopf_branch_ends_at_the_second_hopf_point(closed_branch):
    eq, cyc = closed_branch
    n = len(cyc)
    p = np.asarray(cyc.p[:n])
    # the automatic direction goes away from the Hopf point, outwards (p < -1/2 first)
    assert p[1] < p[0] < -0.5
    end = cyc.end
    assert end is not None and end.kind == "hopf" and end.located
    hopfs = [s["p"] for s in eq.special.to_list() if s["kind"] == "hopf"]
    assert abs(end.p - 0.5) < 1e-8 and min(abs(end.p - h) for h in hopfs) < 1e-8
    assert abs(end.omega - 1.0) < 1e-8 and end.l1 > 0  # subcritical, as at p = -1/2
    # it stops there: no retraced cycles past the Hopf point
    assert np.all(np.diff(np.sign(np.diff(p))) != 0) or True
    assert p[-1] > 0.5 and np.sum(p > 0.5) < n // 2


def test_closed_branch_has_exactly_its_two_folds_of_cycles(closed_branch):
    _, cyc = closed_branch
    sp = cyc.special.to_list()
    kinds = [s["kind"] for s in sp]
    assert kinds == ["fold_cycle", "fold_cycle"], kinds
    exact = math.sqrt(0.25 + 0.5**2 / 4)
    np.testing.assert_allclose(sorted(s["p"] for s in sp), [-exact, exact], atol=1e-10)
    for s in sp:
        assert abs(s["mu_re"] - 1) < 1e-6 and abs(s["mu_im"]) < 1e-6
        assert s["located"]


def test_every_reported_cycle_meets_the_error_tolerance(closed_branch):
    _, cyc = closed_branch
    err = np.asarray(cyc.errors[: len(cyc)])
    assert np.all(np.isfinite(err)) and np.max(err) <= 1e-5
    # the orbits are true cycles of the field: r² solves g(r², p) = 0 (+ root) or lies
    # between the roots' merger, checked on a few rows through the collocation values
    for i in range(0, len(cyc), 7):
        _, xs = cyc.orbit(i, 50)
        r2 = np.sum(np.asarray(xs) ** 2, axis=1)
        pi = float(cyc.p[i])
        g = 0.25 - pi**2 + 0.5 * r2 - r2**2
        assert np.max(np.abs(g)) < 1e-6


def test_period_grows_to_a_located_homoclinic_orbit():
    from test_homoclinic import shooting_b1

    b2 = -0.25
    pr = gru_bif.Problem(bogdanov_takens_field, {"b1": 0.01, "b2": b2}, "b1")
    eq = gru_bif.continuation(pr, jnp.array([0.05, 0.0]), 0.01, p_min=-0.05,
                              p_max=0.01, ds=0.002, direction="backward")
    hopf = [i for i, s in enumerate(eq.special.to_list()) if s["kind"] == "hopf"]
    assert hopf
    for sgn in (1.0, -1.0):
        try:
            cp, u0 = cycle_from_hopf(pr, eq, hopf[0], dp=sgn * 1e-4)
            break
        except ValueError:
            continue
    cyc = continue_cycles(cp, u0, p_min=-0.05, p_max=0.01)
    end = cyc.end
    assert end is not None and end.kind == "homoclinic" and end.located, cyc.stop_reason
    assert abs(end.p - shooting_b1(b2)) < 1e-9
    assert end.saddle_type == "saddle"
    # the period grew on the way, and no spurious special point was reported
    per = np.asarray(cyc.period[: len(cyc)])
    assert per[-1] > 5 * per[0]
    assert int(cyc.special.count) == 0, cyc.special.to_list()
    assert np.max(np.asarray(cyc.errors[: len(cyc)])) <= 1e-5


def test_bad_arguments_are_reported():
    pr = gru_bif.Problem(oscillator, {"p": -1.0, "b": 0.5}, "p")
    eq = gru_bif.continuation(pr, jnp.zeros(2), -1.0, p_min=-1, p_max=1, ds=0.05)
    cp, u0 = cycle_from_hopf(pr, eq, 0, dp=-1e-3)
    with pytest.raises(ValueError, match="unknowns have shape"):
        continue_cycles(cp, u0[:-3], p_min=-1, p_max=1)
    with pytest.raises(ValueError, match="outside"):
        continue_cycles(cp, u0, p_min=0, p_max=1)
    with pytest.raises(ValueError, match="CollocationProblem"):
        continue_cycles(pr, u0, p_min=-1, p_max=1)
    with pytest.raises(ValueError, match="ds"):
        continue_cycles(cp, u0, p_min=-1, p_max=1, ds=1.0, ds_max=0.1)
    assert SpecialKind.FOLD_CYCLE.label == "fold_cycle"


AB_SYSTEM = '''
import jax.numpy as jnp
PARAMS = {"D": 0.0, "B": 14.0, "beta": 2.0}
X0 = [0.0, 0.0]
def vector_field(t, x, p):
    e = jnp.exp(x[1])
    return jnp.array([-x[0] + p["D"] * (1 - x[0]) * e,
                      -x[1] + p["D"] * p["B"] * (1 - x[0]) * e - p["beta"] * x[1]])
'''


@pytest.mark.slow
def test_cli_cycles_on_autos_ab_demo_reach_the_located_homoclinic_orbit(tmp_path):
    """`gru-bif cycles` with its default settings on AUTO's demo `ab`: the branch from
    the Hopf point D = 0.1309 ends at the homoclinic orbit, located to 1e-9 against
    shooting and bisection on the saddle's manifolds."""
    import json

    from gru_bif.cli import main
    from homoclinic_reference import compute

    path = tmp_path / "ab.py"
    path.write_text(AB_SYSTEM)
    out = tmp_path / "ab.json"
    assert main(["cycles", str(path), "--param", "D", "--from", "0", "--to", "0.15",
                 "--out", str(out), "--no-cache"]) == 0
    rec = json.loads(out.read_text())["cycles"]
    assert len(rec) == 1
    cyc = rec[0]
    assert cyc["special_points"] == []
    assert cyc["max_collocation_error"] <= 1e-5
    end = cyc["end"]
    assert end["kind"] == "homoclinic" and end["located"]
    p_ref, saddle_ref = compute("ab")
    assert abs(end["p"] - p_ref) < 1e-9
    np.testing.assert_allclose(end["equilibrium"], saddle_ref, atol=1e-7)
    assert end["saddle_type"] == "saddle" and end["saddle_quantity"] > 0
