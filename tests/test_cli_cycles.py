"""`gru-bif cycles`, run in-process through `gru_bif.cli.main`.

System: `r' = r (b1 − r²)`, `θ' = c − r²` (`c = 1`). A supercritical Hopf point at
`b1 = 0` (ω = c, l1 < 0); cycles `r = √b1` with period `2π/(c − b1)`, which grows
without bound as `b1 → c` (the cycle slows down to a circle of equilibria), so the
branch must stop at the period bound `--max-period 20` (at `b1 ≈ 0.686`); the only
equilibrium is the origin, at distance `√b1` from the cycle.
"""

import json
import math
import textwrap

import numpy as np
import pytest

from gru_bif.cli import main

SLOWING = textwrap.dedent(
    """
    import jax.numpy as jnp
    PARAMS = {"b1": -0.1, "c": 1.0}
    X0 = [0.0, 0.0]
    def vector_field(t, x, p):
        r2 = x[0] ** 2 + x[1] ** 2
        g = p["b1"] - r2
        w = p["c"] - r2
        return jnp.array([g * x[0] - w * x[1], w * x[0] + g * x[1]])
    """
)


def test_cycles_cli(tmp_path, capsys):
    system = tmp_path / "slowing.py"
    system.write_text(SLOWING)
    out = tmp_path / "cycles.json"
    plot = tmp_path / "cycles.png"
    rc = main(["cycles", str(system), "--param", "b1", "--from", "-0.1", "--to", "0.95",
               "--ntst", "12", "--cycle-ds", "0.1", "--cycle-steps", "150",
               "--max-period", "20", "--error-tol", "1e-4", "--no-cache",
               "--out", str(out), "--plot", str(plot)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "cycles from the Hopf point" in text and "max_period" in text
    data = json.loads(out.read_text())
    assert data["format"] == "gru_bif.cycles" and data["param"] == "b1"
    (eq,) = data["equilibria"]
    hopf = [s for s in eq["special_points"] if s["kind"] == "hopf"]
    assert len(hopf) == 1 and abs(hopf[0]["p"]) < 1e-10
    (cyc,) = data["cycles"]
    assert abs(cyc["hopf"]["p"]) < 1e-10 and cyc["hopf"]["l1"] < 0
    pts = cyc["points"]
    p = np.array([q["p"] for q in pts])
    T = np.array([q["period"] for q in pts])
    assert len(pts) >= 5 and np.all(p > 0)
    np.testing.assert_allclose(T, 2 * math.pi / (1.0 - p), rtol=1e-6)
    np.testing.assert_allclose([q["x_max"][0] for q in pts], np.sqrt(p), rtol=1e-3)
    assert all(q["stable"] for q in pts)
    # stopped at the first cycle past the period bound
    assert "max_period" in cyc["stop_reason"]
    assert T[-1] > 20 and np.all(T[:-1] <= 20)
    assert cyc["special_points"] == [] and cyc["max_collocation_error"] <= 1e-4
    end = cyc["end"]
    assert end["kind"] == "period_bound" and end["period"] == pytest.approx(T[-1])
    assert not end["located"]
    np.testing.assert_allclose(end["equilibrium"], [0.0, 0.0], atol=1e-10)
    assert end["distance"] == pytest.approx(math.sqrt(p[-1]), rel=1e-3)
    assert plot.stat().st_size > 1000


def test_cycles_cli_bad_input(tmp_path):
    system = tmp_path / "slowing.py"
    system.write_text(SLOWING)
    with pytest.raises(SystemExit, match="max-period"):
        main(["cycles", str(system), "--param", "b1", "--from", "-0.1", "--to", "0.2",
              "--max-period", "-1", "--no-cache"])
    with pytest.raises(SystemExit, match="--dp"):
        main(["cycles", str(system), "--param", "b1", "--from", "-0.1", "--to", "0.2",
              "--dp", "2", "--no-cache"])
