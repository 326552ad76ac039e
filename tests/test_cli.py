"""The `gru-bif` command line, run in-process through `gru_bif.cli.main` (one subprocess
test checks the installed entry point)."""

import json
import math
import pathlib
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import pytest

from gru_bif import GRU
from gru_bif.cli import main
from gru_bif.examples import rotation

CUBIC = textwrap.dedent(
    """
    import jax.numpy as jnp
    PARAMS = {"p": -1.0, "c": 3.0}
    X0 = [-2.1]
    def vector_field(t, x, p):
        return jnp.array([p["p"] + x[0] - x[0] ** 3 / p["c"]])
    """
)
"""x' = p + x − x³/3: folds at p = ±2/3 (x = ∓1); at p = −1 the one root is x ≈ −2.104."""

LINEAR_2D = textwrap.dedent(
    """
    import jax.numpy as jnp
    PARAMS = {"mu": -0.5}
    X0 = [0.0, 0.0]
    def vector_field(t, x, p):
        return jnp.array([p["mu"] * x[0] - x[1] - x[0] * (x[0]**2 + x[1]**2),
                          x[0] + p["mu"] * x[1] - x[1] * (x[0]**2 + x[1]**2)])
    """
)
"""The Hopf normal form; a stable focus at the origin for mu < 0."""

NO_FIELD = "PARAMS = {'p': 1.0}\nX0 = [0.0]\n"

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _write(tmp_path, name, text) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _is_png(path) -> bool:
    path = pathlib.Path(path)
    return path.exists() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_MAGIC


def test_help_subprocess():
    exe = pathlib.Path(sys.executable).parent / "gru-bif"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "gru_bif.cli"]
    res = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    for sub in ("continue", "portrait", "reproduce"):
        assert sub in res.stdout


def test_continue_system_file_json_and_plot(tmp_path, capsys):
    system = _write(tmp_path, "cubic.py", CUBIC)
    out, png = tmp_path / "branch.json", tmp_path / "branch.png"
    rc = main(["continue", system, "--param", "p", "--from", "-1", "--to", "1",
               "--out", str(out), "--plot", str(png), "--no-cache"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "fold" in text and f"wrote {out}" in text and f"wrote {png}" in text
    d = json.loads(out.read_text())
    assert d["format"] == "gru_bif.branch" and d["param"] == "p"
    assert d["num_points"] == len(d["points"]) > 10
    for pt in d["points"]:
        assert set(pt) >= {"p", "x", "stable"}
        assert isinstance(pt["p"], float) and len(pt["x"]) == 1
        assert isinstance(pt["stable"], bool)
        assert -1.0 - 1e-12 <= pt["p"] <= 1.0 + 1e-12
        # x' = p + x - x^3/3 vanishes on the branch; stable exactly where 1 - x^2 < 0
        x = pt["x"][0]
        assert abs(pt["p"] + x - x**3 / 3) < 1e-8
        if abs(abs(x) - 1) > 1e-3:
            assert pt["stable"] == (abs(x) > 1)
    folds = sorted((s for s in d["special_points"] if s["kind"] == "fold"), key=lambda s: s["p"])
    assert len(folds) == 2
    for s, (p, x) in zip(folds, [(-2 / 3, 1.0), (2 / 3, -1.0)]):
        assert set(s) >= {"kind", "p", "x", "a"}
        assert abs(s["p"] - p) < 1e-9 and abs(s["x"][0] - x) < 1e-6
        assert abs(abs(s["a"]) - 1.0) < 1e-6  # f_xx / 2 = -x, |x| = 1
    assert _is_png(png)


def test_continue_saved_gru(tmp_path, capsys):
    model = tmp_path / "gru.json"
    GRU(3.0 * rotation(math.pi / 4), jnp.zeros(2)).save(model)
    out = tmp_path / "gru_branch.json"
    rc = main(["continue", str(model), "--param", "bh[0]", "--from", "-1", "--to", "1",
               "--out", str(out), "--no-cache"])
    assert rc == 0
    assert "hopf" in capsys.readouterr().out
    d = json.loads(out.read_text())
    assert d["format"] == "gru_bif.branch" and d["param"] == "bh[0]"
    hopf = sorted((s for s in d["special_points"] if s["kind"] == "hopf"), key=lambda s: s["p"])
    assert [round(s["p"], 10) for s in hopf] == [-0.3590384596, 0.3590384596]
    for s in hopf:
        assert s["omega"] > 0 and s["l1"] < 0 and s["criticality"] == "supercritical"
        assert len(s["x"]) == 2


@pytest.mark.parametrize(
    "argv_tail, expect",
    [
        (["--param", "q"], "Unknown parameter 'q'"),
        (["--param", "p", "--set", "zz=1"], "'zz' is not in the system's PARAMS"),
        (["--param", "p", "--set", "c"], "--set expects key=value"),
        (["--param", "p", "--x0", "1,a"], "--x0 expects numbers"),
    ],
)
def test_continue_bad_input_system(tmp_path, argv_tail, expect):
    system = _write(tmp_path, "cubic.py", CUBIC)
    with pytest.raises(SystemExit) as e:
        main(["continue", system, "--from", "-1", "--to", "1", "--no-cache", *argv_tail])
    assert expect in str(e.value.code)


def test_continue_bad_input_files(tmp_path):
    nofield = _write(tmp_path, "nofield.py", NO_FIELD)
    with pytest.raises(SystemExit) as e:
        main(["continue", nofield, "--param", "p", "--from", "0", "--to", "1", "--no-cache"])
    assert "no function `vector_field" in str(e.value.code)
    with pytest.raises(SystemExit) as e:
        main(["continue", str(tmp_path / "missing.py"), "--param", "p", "--from", "0",
              "--to", "1", "--no-cache"])
    assert "does not exist" in str(e.value.code)
    model = tmp_path / "gru.json"
    GRU(3.0 * jnp.eye(2)).save(model)
    with pytest.raises(SystemExit) as e:
        main(["continue", str(model), "--param", "bh[5]", "--from", "0", "--to", "1",
              "--no-cache"])
    assert "out of range" in str(e.value.code)
    with pytest.raises(SystemExit) as e:
        main(["continue", str(model), "--param", "Wq[0]", "--from", "0", "--to", "1",
              "--no-cache"])
    assert "Unknown parameter" in str(e.value.code)
    with pytest.raises(SystemExit):  # argparse: a required option is missing
        main(["continue", str(model), "--from", "0", "--to", "1"])


def test_portrait_system_files_and_gru(tmp_path, capsys):
    for name, text in (("hopf2d.py", LINEAR_2D), ("cubic.py", CUBIC)):
        system = _write(tmp_path, name, text)
        png = tmp_path / f"{name}.png"
        assert main(["portrait", system, "--out", str(png), "--no-cache"]) == 0
        assert _is_png(png)
    model = tmp_path / "gru.json"
    GRU(3.0 * jnp.eye(2)).save(model)
    png = tmp_path / "gru.png"
    assert main(["portrait", str(model), "--out", str(png), "--no-cache"]) == 0
    assert _is_png(png)
    assert f"wrote {png}" in capsys.readouterr().out


def test_reproduce_only_one_figure(tmp_path, capsys):
    out = tmp_path / "fig"
    assert main(["reproduce", "--out", str(out), "--only", "fig_hopf_gru", "--no-cache"]) == 0
    text = capsys.readouterr().out
    assert "fig_hopf_gru" in text and "REPORT.md" in text
    assert _is_png(out / "fig_hopf_gru.png")
    report = (out / "REPORT.md").read_text()
    assert "| fig_hopf_gru |" in report and "0.359038459564185" in report
    d = json.loads((out / "report.json").read_text())
    rec = d["figures"]["fig_hopf_gru"]
    assert rec["status"] == "ok" and rec["rows"]
    assert all(r["agrees"] == "yes" for r in rec["rows"])
    assert set(d["figures"]) == {"fig_hopf_gru"}


def test_reproduce_unknown_figure(tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path), "--only", "fig_nope", "--no-cache"]) == 2
    assert "fig_1d_flows" in capsys.readouterr().err


def test_reproduce_failure_is_reported(tmp_path, monkeypatch, capsys):
    from gru_bif import reproduce

    def boom(out):
        raise RuntimeError("deliberate")

    monkeypatch.setitem(reproduce.FIGURES, "fig_ring", boom)
    assert reproduce.run(tmp_path, only="fig_ring") == 1
    report = (tmp_path / "REPORT.md").read_text()
    assert "| fig_ring | (figure failed)" in report and "deliberate" in report
    assert json.loads((tmp_path / "report.json").read_text())["figures"]["fig_ring"][
        "status"] == "failed"


@pytest.mark.slow
def test_reproduce_full(tmp_path):
    from gru_bif.reproduce import FIGURES

    out = tmp_path / "fig"
    assert main(["reproduce", "--out", str(out), "--no-cache"]) == 0
    for name in FIGURES:
        assert _is_png(out / f"{name}.png"), name
    d = json.loads((out / "report.json").read_text())
    assert set(d["figures"]) == set(FIGURES)
    agrees = [r["agrees"] for f in d["figures"].values() for r in f["rows"]]
    assert "no" not in agrees and agrees.count("yes") > 20
