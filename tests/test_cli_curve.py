"""`gru-bif curve`: fold / Hopf curves in two parameters from the command line."""

import json
import math
import pathlib
import textwrap

import numpy as np
import pytest

from gru_bif import Branch
from gru_bif.cli import main

CUSP = textwrap.dedent(
    """
    import jax.numpy as jnp
    PARAMS = {"b1": -1.0, "b2": 1.0}
    X0 = [1.3]
    def vector_field(t, x, p):
        return jnp.array([p["b1"] + p["b2"] * x[0] - x[0] ** 3])
    """
)
"""x' = b1 + b2 x − x³: fold curve 27 b1² = 4 b2³, cusp at the origin."""


def _write(tmp_path, name, text) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _check_cusp_curve(path):
    d = json.loads(pathlib.Path(path).read_text())
    assert d["format"] == "gru_bif.branch" and d["param"] == "b2"
    assert d["curve"] == {"kind": "fold", "param1": "b1", "param2": "b2", "state_dim": 1}
    p1 = np.array([pt["p1"] for pt in d["points"]])
    p2 = np.array([pt["p"] for pt in d["points"]])
    assert len(p1) > 20 and np.max(np.abs(27 * p1**2 - 4 * p2**3)) < 1e-10
    (cusp,) = d["special_points"]
    assert cusp["kind"] == "cusp" and abs(cusp["p"]) < 1e-8 and abs(cusp["p1"]) < 1e-8
    assert abs(cusp["c"] + 1) < 1e-8
    back = Branch.from_dict(d)  # the same shape as `continue`: readable as a Branch
    assert back.special.to_list()[0]["kind"] == "cusp"


def test_curve_from_point(tmp_path, capsys):
    sysf = _write(tmp_path, "cusp.py", CUSP)
    x = 1 / math.sqrt(3)
    out = tmp_path / "fold.json"
    rc = main(["curve", sysf, "--kind", "fold", "--params", "b1", "b2", "--range", "-1", "2",
               "--from-point", f"{x!r},{-2 * x**3!r}", "--ds", "0.05", "--max-steps", "200",
               "--out", str(out), "--plot", str(tmp_path / "fold.png")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "cusp" in text and "wrote" in text
    _check_cusp_curve(out)
    assert (tmp_path / "fold.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow  # a one-parameter run, then the curve: two more compilations
def test_curve_from_scan(tmp_path, capsys):
    """Started automatically from the first fold of a one-parameter run in b1."""
    sysf = _write(tmp_path, "cusp.py", CUSP)
    out = tmp_path / "fold.json"
    rc = main(["curve", sysf, "--kind", "fold", "--params", "b1", "b2", "--range", "-1", "2",
               "--scan", "-1", "1", "--ds", "0.05", "--max-steps", "200", "--out", str(out)])
    assert rc == 0
    assert "start: fold at b1" in capsys.readouterr().out
    _check_cusp_curve(out)


def test_curve_bad_input(tmp_path):
    sysf = _write(tmp_path, "cusp.py", CUSP)
    with pytest.raises(SystemExit, match="not a fold/Hopf point"):
        main(["curve", sysf, "--kind", "fold", "--params", "b1", "b2", "--range", "-1", "2",
              "--from-point", "0.3,-1.0"])
    with pytest.raises(SystemExit, match="--from-point"):
        main(["curve", sysf, "--kind", "fold", "--params", "b1", "b2", "--range", "-1", "2"])
    with pytest.raises(SystemExit, match="below"):
        main(["curve", sysf, "--kind", "fold", "--params", "b1", "b2", "--range", "2", "-1",
              "--scan", "-1", "1"])
