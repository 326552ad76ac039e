"""What a newcomer meets in the first hour: fields written as lists, parameter names as
typed, sorted eigenvalues, one version, CLI notes in the CLI's own terms."""

import pathlib
import re
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif.cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent


def list_field(t, x, a):
    return [a["p"] - x[0] ** 2]            # x' = p − x²: a fold at p = 0, x = 0


def test_a_field_that_returns_a_list_works():
    pr = gru_bif.Problem(list_field, {"p": 1.0}, "p")
    br = gru_bif.continuation(pr, jnp.array([1.0]), 1.0, p_min=-1.0, p_max=1.0, ds=-0.05)
    (fold,) = [s for s in br.special.to_list() if s["kind"] == "fold"]
    assert abs(fold["p"]) < 1e-12 and abs(fold["x"][0]) < 1e-6
    # the user's function is still there, and a new Problem of it does not recompile
    assert pr.f.fn is list_field
    assert gru_bif.Problem(list_field, {"p": 0.5}, "p").f == pr.f


def test_parameter_names_in_errors_are_the_ones_to_type():
    gru = gru_bif.GRU(jnp.eye(2))
    with pytest.raises(ValueError) as e:
        gru_bif.Problem.from_gru(gru, "bq[0]")
    msg = str(e.value)
    assert "'bh'" in msg and "gru." not in msg
    gru_bif.Problem.from_gru(gru, "bh[0]")  # the name listed works


def test_equilibria_list_eigenvalues_by_decreasing_real_part():
    def saddle(t, x, a):
        return jnp.array([-2.0 * x[0], 0.5 * x[1]])

    eq = gru_bif.find_equilibria(gru_bif.Problem(saddle, {"p": 0.0}, "p"),
                                 guesses=jnp.array([[0.1, 0.1]]))
    row = [ln for ln in eq.summary().splitlines() if "saddle" in ln][0]
    assert re.search(r"\+0\.5, -2\s*$", row), row


def test_one_version():
    readme = (ROOT / "README.md").read_text()
    latest = re.search(r"^## Changelog\s+- (\S+) —", readme, re.M).group(1)
    assert gru_bif.__version__ == latest
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text()


def test_cli_notes_name_cli_flags(tmp_path, capsys):
    system = tmp_path / "cubic.py"
    system.write_text(textwrap.dedent("""
        import jax.numpy as jnp
        PARAMS = {"p": -1.0}
        X0 = [-2.0]
        def vector_field(t, x, p):
            return jnp.array([p["p"] + x[0] - x[0] ** 3 / 3])
        """))
    assert main(["continue", str(system), "--param", "p", "--from", "-1", "--to", "1",
                 "--max-steps", "3", "--no-cache"]) == 0
    err = capsys.readouterr().err
    assert "--max-steps 3" in err and "max_steps" not in err
    assert ".py:" not in err  # no Python source line
    assert len([ln for ln in err.splitlines() if ln.strip()]) == 1
    assert np.isfinite(1.0)


def test_diagram_in_output_space():
    import matplotlib

    matplotlib.use("Agg")
    from gru_bif.plotting import Readout, plot_bifurcation_diagram

    th = np.pi / 4
    Uh = 3 * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    pr = gru_bif.Problem.from_gru(gru_bif.GRU(Uh), "bh[0]")
    br = gru_bif.continuation(pr, jnp.zeros(2), -1.0, p_min=-1.0, p_max=1.0, ds=0.05)
    W, b = np.array([[1.0, -2.0], [0.5, 0.5]]), np.array([0.1, -0.3])
    ro = Readout(W, b, index=0)
    ax = plot_bifurcation_diagram(br, coord=ro)
    n = int(br.num_points)
    want = np.asarray(br.x[:n]) @ W[0] + b[0]
    sp = np.asarray([s["x"] for s in br.special.to_list()]) @ W[0] + b[0]
    got = np.concatenate([ln.get_ydata() for ln in ax.get_lines()
                          if len(ln.get_ydata()) > 1])
    # every drawn point is an output W[0]·h + b[0] of a branch point (or of a located
    # special point, where the curve is split), and every branch point is drawn
    both = np.concatenate([want, sp])
    assert np.max(np.min(np.abs(got[:, None] - both[None, :]), axis=1)) < 1e-12
    assert np.max(np.min(np.abs(want[:, None] - got[None, :]), axis=1)) < 1e-12
    assert ax.get_ylabel().startswith("y[0]")
    with pytest.raises(ValueError, match="bias"):
        Readout(W, np.zeros(3))


def test_portrait_in_output_space():
    import matplotlib

    matplotlib.use("Agg")
    from gru_bif.plotting import plot_output_portrait

    gru = gru_bif.GRU.random(__import__("jax").random.PRNGKey(1), 4, scale=2.0)
    pr = gru_bif.Problem.from_gru(gru, "bh[0]")
    eq = gru_bif.find_equilibria(pr, guesses=np.random.default_rng(0).uniform(-1, 1, (20, 4)))
    W, b = np.random.default_rng(1).normal(size=(2, 4)), np.array([0.0, 1.0])
    x0s = np.random.default_rng(2).uniform(-0.9, 0.9, (3, 4))
    ax = plot_output_portrait(pr, (W, b), x0s, t1=20.0, n=50, equilibria=eq)
    first = ax.get_lines()[0]
    np.testing.assert_allclose(first.get_xdata()[0], x0s[0] @ W[0] + b[0], atol=1e-12)
    np.testing.assert_allclose(first.get_ydata()[0], x0s[0] @ W[1] + b[1], atol=1e-12)
    assert ax.get_xlabel().startswith("y[0]") and ax.get_ylabel().startswith("y[1]")
    with pytest.raises(ValueError, match="two"):
        plot_output_portrait(pr, (W[:1], b[:1]), x0s)


def test_cli_takes_negative_number_lists_after_an_option(tmp_path, capsys):
    from gru_bif.cli import join_negative_values

    assert join_negative_values(["continue", "s.py", "--x0", "-0.6,-0.3", "--to", "-1",
                                 "--both"]) == ["continue", "s.py", "--x0=-0.6,-0.3",
                                                "--to", "-1", "--both"]
    assert join_negative_values(["--range", "-0.3", "0.4"]) == ["--range", "-0.3", "0.4"]
    assert join_negative_values(["--set", "a=-1"]) == ["--set", "a=-1"]
    system = tmp_path / "plane.py"
    system.write_text(textwrap.dedent("""
        import jax.numpy as jnp
        PARAMS = {"p": 1.0}
        X0 = [1.0, 0.0]
        def vector_field(t, x, p):
            return jnp.array([p["p"] - x[0] ** 2, -x[1]])
        """))
    assert main(["continue", str(system), "--param", "p", "--from", "1", "--to", "-1",
                 "--x0", "-1,-0.5", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "fold" in out  # the lower branch x = -√p runs into the fold at p = 0


def test_lazy_names_stay_functions_after_their_modules_are_imported():
    # `gru_bif.simulate` and `gru_bif.periodic.lpc_curve` are functions named like their
    # modules: importing the module (as other code does) must not replace the function
    import importlib
    import subprocess
    import sys

    code = (
        "import gru_bif, gru_bif.simulate, gru_bif.periodic.lpc_curve, sys\n"
        "from gru_bif.simulate import Trajectory\n"
        "assert callable(gru_bif.simulate) and not isinstance(gru_bif.simulate, type(sys))\n"
        "assert not isinstance(gru_bif.periodic.lpc_curve, type(sys))\n"
        "assert sys.modules['gru_bif.simulate'].Trajectory is Trajectory\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    # and a plain `import gru_bif` does not load Diffrax or the periodic solvers
    lean = subprocess.run(
        [sys.executable, "-c", "import gru_bif, sys; print('diffrax' in sys.modules, "
         "'gru_bif.periodic.collocation' in sys.modules)"],
        capture_output=True, text=True,
    )
    assert lean.stdout.split() == ["False", "False"], lean.stdout + lean.stderr
    assert importlib.import_module("gru_bif").__version__
