"""Bad input gives an error of the library's own, degenerate points an honest label.

Every corrupted file (a saved branch as JSON or `.npz`, a GRU file, a system file) ends
either in success or in a `ValueError` (the CLI: a one-line `error: ...`) that names the
file and the entry — never a raw `KeyError`, `TypeError`, `JSONDecodeError`,
`BadZipFile` or `IndexError` from numpy, jax, json or zipfile. The fuzz is seeded; each
named case of issue #18 is also checked on its own, with its message.
"""

import copy
import io
import json
import math
import pathlib
import textwrap
import zipfile

import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif import GRU, Branch, Problem, continuation
from gru_bif._io import atomic_path, write_atomic
from gru_bif.branch import hopf_criticality, is_degenerate
from gru_bif.cli import main
from gru_bif.examples import rotation

# --------------------------------------------------------------------------- fixtures


def _branch_dict() -> dict:
    """A small branch as `Branch.to_dict` writes it (built by hand: no continuation)."""
    pts = [
        {"p": -1.0 + 0.1 * i, "x": [0.1 * i, -0.05 * i], "stable": i < 5,
         "n_unstable": 0 if i < 5 else 2}
        for i in range(8)
    ]
    sps = [
        {"kind": "fold", "p": -0.55, "x": [0.45, -0.225], "index": 4,
         "precision": 1e-15, "located": True, "a": -0.5},
        {"kind": "hopf", "p": -0.35, "x": [0.65, -0.325], "index": 6,
         "precision": 1e-15, "located": True, "omega": 0.5, "l1": -1.0},
    ]
    d = Branch.from_dict({"format": "gru_bif.branch", "version": 1, "param": "bh[0]",
                          "num_points": len(pts), "stop_reason": "reached parameter bound",
                          "points": pts, "special_points": sps,
                          "stats": {"steps": 7, "attempts": 8}}).to_dict()
    return d


def _assert_clear(e: BaseException, *names: str) -> None:
    """A ValueError of the library (not a subclass such as JSONDecodeError) whose
    message names each of `names`."""
    assert type(e) is ValueError, f"{type(e).__name__}: {e}"
    for name in names:
        assert name in str(e), f"{name!r} not in {str(e)!r}"


def _load_or_error(load, path: pathlib.Path):
    """Run `load(path)`; `None` on success, else the exception (which must be clear)."""
    try:
        load(str(path))
    except Exception as e:  # noqa: BLE001 - the test inspects it
        _assert_clear(e, path.name)
        return e
    return None


def _cli_error(argv) -> str:
    with pytest.raises(SystemExit) as e:
        main([*argv, "--no-cache"])
    msg = str(e.value.code)
    assert msg.startswith("error: "), msg
    assert "\n" not in msg, msg
    return msg


# ---------------------------------------------------------- branch files: named cases


def test_branch_json_named_cases(tmp_path):
    d = _branch_dict()
    path = tmp_path / "branch.json"

    bad = dict(d)
    del bad["points"]
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError) as e:
        Branch.from_json(path)
    _assert_clear(e.value, "branch.json", "'points'")

    bad = copy.deepcopy(d)
    bad["points"][3]["x"].append(1.0)
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError) as e:
        Branch.from_json(str(path))
    _assert_clear(e.value, "branch.json", "points[3].x", "3 entries", "expected 2")

    bad = copy.deepcopy(d)
    bad["points"][2]["p"] = "zzz"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError) as e:
        Branch.from_json(path)
    _assert_clear(e.value, "branch.json", "points[2].p", "'zzz'", "expected a number")

    bad = copy.deepcopy(d)
    bad["special_points"][1]["kind"] = "hopff"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError) as e:
        Branch.from_json(path)
    _assert_clear(e.value, "branch.json", "special_points[1].kind", "'hopff'")

    text = json.dumps(d, indent=1)
    path.write_text(text[: len(text) // 2])  # cut short
    with pytest.raises(ValueError) as e:
        Branch.from_json(path)
    _assert_clear(e.value, "branch.json", "not valid JSON", "line")

    with pytest.raises(ValueError) as e:  # JSON text, not a file
        Branch.from_json(text[:40])
    _assert_clear(e.value, "not valid JSON")


def test_branch_npz_named_cases(tmp_path):
    br = Branch.from_dict(_branch_dict())
    good = tmp_path / "branch.npz"
    br.save_npz(good)
    back = Branch.load_npz(good)
    np.testing.assert_array_equal(np.asarray(back.x), np.asarray(br.x))

    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(ValueError) as e:
        Branch.load_npz(cut)
    _assert_clear(e.value, "cut.npz", "truncated")

    arrays = dict(np.load(good))
    del arrays["sp_kind"]
    np.savez(tmp_path / "missing.npz", **arrays)
    with pytest.raises(ValueError) as e:
        Branch.load_npz(tmp_path / "missing.npz")
    _assert_clear(e.value, "missing.npz", "sp_kind")

    arrays = dict(np.load(good))
    arrays["p"] = arrays["p"][:-1]
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(ValueError) as e:
        Branch.load_npz(tmp_path / "short.npz")
    _assert_clear(e.value, "short.npz", "'p'", "shape")


# -------------------------------------------------------------- branch files: fuzz


def _mutate_dict(d: dict, rng) -> dict:
    """One random structural corruption of a branch dict."""
    d = copy.deepcopy(d)
    junk = ["zzz", None, [], {}, True, [1.0, 2.0, 3.0], -7, float("nan"), 1e308]
    where = rng.choice(["top", "point", "special"])
    if where == "top":
        key = rng.choice(sorted(d))
        op = rng.integers(3)
        if op == 0:
            del d[key]
        else:
            d[key] = junk[rng.integers(len(junk))]
        return d
    rows = d["points"] if where == "point" else d["special_points"]
    row = rows[int(rng.integers(len(rows)))]
    key = rng.choice(sorted(row))
    op = rng.integers(5)
    if op == 0:
        del row[key]
    elif op == 1 and isinstance(row[key], list) and row[key]:
        row[key][int(rng.integers(len(row[key])))] = junk[rng.integers(len(junk))]
    elif op == 2 and isinstance(row[key], list):
        row[key] = row[key] + [0.5] if rng.random() < 0.5 else row[key][:-1]
    else:
        row[key] = junk[rng.integers(len(junk))]
    return d


def _mutate_bytes(data: bytes, rng) -> bytes:
    """Truncate, flip a byte, or cut out a slice."""
    op = rng.integers(3)
    i = int(rng.integers(1, len(data)))
    if op == 0:
        return data[:i]
    if op == 1:
        b = bytearray(data)
        b[i] ^= 1 << int(rng.integers(8))
        return bytes(b)
    j = min(len(data), i + int(rng.integers(1, 64)))
    return data[:i] + data[j:]


def test_fuzz_branch_json(tmp_path):
    rng = np.random.default_rng(18)
    d = _branch_dict()
    text = json.dumps(d, indent=1).encode()
    errors = 0
    for k in range(150):
        path = tmp_path / f"branch_{k}.json"
        if k % 3:
            path.write_text(json.dumps(_mutate_dict(d, rng)))
        else:
            path.write_bytes(_mutate_bytes(text, rng))
        errors += _load_or_error(Branch.from_json, path) is not None
    assert errors > 75  # most corruptions are caught, none escapes as a raw exception


def test_fuzz_branch_npz(tmp_path):
    rng = np.random.default_rng(1806)
    good = tmp_path / "good.npz"
    Branch.from_dict(_branch_dict()).save_npz(good)
    data = good.read_bytes()
    arrays = dict(np.load(good))
    errors = 0
    for k in range(80):
        path = tmp_path / f"branch_{k}.npz"
        if k % 2:
            path.write_bytes(_mutate_bytes(data, rng))
        else:
            a = dict(arrays)
            key = rng.choice(sorted(a))
            op = rng.integers(4)
            if op == 0:
                del a[key]
            elif op == 1:
                a[key] = np.asarray("zzz")
            elif op == 2:
                a[key] = np.zeros((3, 3, 3))
            else:
                v = np.asarray(a[key])
                a[key] = (np.full(v.shape, 3, np.int64) if rng.random() < 0.5
                          else np.ones(v.shape, bool))
            np.savez(path, **a)
        errors += _load_or_error(Branch.load_npz, path) is not None
    assert errors > 40


# ------------------------------------------------------------------------ GRU files


def test_gru_json_named_cases(tmp_path):
    model = tmp_path / "gru.json"
    GRU(3.0 * jnp.eye(2)).save(model)
    d = json.loads(model.read_text())

    d["Uh"][0][1] = "abc"
    bad = tmp_path / "bad_gru.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(ValueError) as e:
        GRU.load(bad)
    _assert_clear(e.value, "bad_gru.json", "'Uh'[0][1]", "'abc'", "expected a number")
    msg = _cli_error(["continue", str(bad), "--param", "bh[0]", "--from", "0", "--to", "1"])
    assert "bad_gru.json" in msg and "'Uh'[0][1]" in msg

    cut = tmp_path / "cut_gru.json"
    cut.write_text(model.read_text()[:1] + "\n")
    msg = _cli_error(["continue", str(cut), "--param", "bh[0]", "--from", "0", "--to", "1"])
    assert "cut_gru.json" in msg and "not valid JSON" in msg

    d = json.loads(model.read_text())
    d["Uz"][1] = [0.0]  # a ragged row
    bad.write_text(json.dumps(d))
    with pytest.raises(ValueError) as e:
        GRU.load(bad)
    _assert_clear(e.value, "bad_gru.json", "'Uz'", "(2, 2)")


def test_fuzz_gru_files(tmp_path):
    rng = np.random.default_rng(7)
    gru = GRU.random(jax_key(0), 2, 1)
    js, nz = tmp_path / "gru.json", tmp_path / "gru.npz"
    gru.save(js)
    gru.save(nz)
    d = json.loads(js.read_text())
    junk = ["abc", None, [], {}, True, [[1.0]], -1, 2.5, float("nan"), "float64"]
    errors = 0
    for k in range(120):
        if k % 4 == 3:
            path = tmp_path / f"gru_{k}.npz"
            path.write_bytes(_mutate_bytes(nz.read_bytes(), rng))
        elif k % 4 == 2:
            path = tmp_path / f"gru_{k}.json"
            path.write_bytes(_mutate_bytes(js.read_bytes(), rng))
        else:
            path = tmp_path / f"gru_{k}.json"
            m = copy.deepcopy(d)
            key = rng.choice(sorted(m))
            v = m[key]
            if isinstance(v, list) and v and rng.random() < 0.6:
                row = v[int(rng.integers(len(v)))]
                if isinstance(row, list) and row:
                    row[int(rng.integers(len(row)))] = junk[rng.integers(len(junk))]
                else:
                    v[int(rng.integers(len(v)))] = junk[rng.integers(len(junk))]
            elif rng.random() < 0.3:
                del m[key]
            else:
                m[key] = junk[rng.integers(len(junk))]
            path.write_text(json.dumps(m))
        errors += _load_or_error(GRU.load, path) is not None
    assert errors > 60


def jax_key(seed):
    import jax

    return jax.random.PRNGKey(seed)


# ---------------------------------------------------------------------- system files

CUBIC = textwrap.dedent(
    """
    import jax.numpy as jnp
    PARAMS = {"p": -1.0, "c": 3.0}
    X0 = [-2.1]
    def vector_field(t, x, p):
        return jnp.array([p["p"] + x[0] - x[0] ** 3 / p["c"]])
    """
)

SYSTEM_CORRUPTIONS = [
    ('X0 = [-2.1]', 'X0 = ["a"]', "X0"),
    ('X0 = [-2.1]', 'X0 = [[-2.1]]', "X0"),
    ('X0 = [-2.1]', 'X0 = [-2.1, 0.0]', "x0 must have"),
    ('X0 = [-2.1]', 'X0 = []', "X0"),
    ('X0 = [-2.1]', 'X0 = [float("nan")]', "X0"),
    ('"c": 3.0', '"c": "three"', "PARAMS['c']"),
    ('"c": 3.0', '"c": None', "PARAMS['c']"),
    ('PARAMS = {"p": -1.0, "c": 3.0}', 'PARAMS = [1.0]', "PARAMS"),
    ("def vector_field(t, x, p):", "def vector_field(t, x):", "vector field"),
    ("def vector_field(t, x, p):", "def vector_fiel(t, x, p):", "vector_field"),
    ('return jnp.array([p["p"]', 'return jnp.array([p["q"]', "vector field"),
    ('return jnp.array([p["p"] + x[0] - x[0] ** 3 / p["c"]])',
     'return jnp.array([x[0], x[0]])', "returns shape (2,)"),
    ('return jnp.array([p["p"] + x[0] - x[0] ** 3 / p["c"]])',
     'return x[3]', "vector field"),
    ("import jax.numpy as jnp", "import jax.numpy as", "Could not import"),
]


@pytest.mark.parametrize("old, new, entry", SYSTEM_CORRUPTIONS,
                         ids=[c[1][:24] for c in SYSTEM_CORRUPTIONS])
def test_system_file_corruptions(tmp_path, old, new, entry):
    assert old in CUBIC
    system = tmp_path / "cubic_sys.py"
    system.write_text(CUBIC.replace(old, new))
    msg = _cli_error(["continue", str(system), "--param", "p", "--from", "-1", "--to", "1",
                      "--max-steps", "5"])
    assert entry in msg, msg
    assert "cubic_sys" in msg, msg


def test_cli_start_states_of_wrong_length(tmp_path):
    """`--x0` / `--from-point` checked against the vector field before any computation,
    in every sub-command that takes them."""
    model = tmp_path / "gru.json"
    GRU(3.0 * rotation(math.pi / 4), jnp.zeros(2)).save(model)
    msg = _cli_error(["continue", str(model), "--param", "bh[0]", "--from", "0", "--to", "1",
                      "--x0", "0,0,0"])
    assert "--x0" in msg and "d = 2" in msg
    msg = _cli_error(["cycles", str(model), "--param", "bh[0]", "--from", "0", "--to", "1",
                      "--x0", "0"])
    assert "--x0" in msg and "d = 2" in msg
    msg = _cli_error(["homoclinic", str(model), "--params", "bh[0]", "bh[1]", "--to", "1",
                      "--from-bt", "0", "0", "--x0", "0,0,0"])
    assert "--x0" in msg and "d = 2" in msg
    system = tmp_path / "cubic.py"
    system.write_text(CUBIC)
    msg = _cli_error(["curve", str(system), "--kind", "fold", "--params", "p", "c",
                      "--range", "0", "5", "--from-point", "1"])
    assert "--from-point" in msg and "at least two numbers" in msg
    msg = _cli_error(["curve", str(system), "--kind", "fold", "--params", "p", "c",
                      "--range", "0", "5", "--from-point", "1,2,0.5"])
    assert "--from-point" in msg and "is d = 1?" in msg


def test_fuzz_system_file_truncations(tmp_path):
    """The system file cut at random places: an import error, a missing name, or (cut
    past the end of the function) a run; nothing else."""
    rng = np.random.default_rng(3)
    runs = 0
    for k, cut in enumerate(sorted(rng.choice(np.arange(1, len(CUBIC)), 10, replace=False))):
        system = tmp_path / f"sys_{k}.py"
        system.write_text(CUBIC[:cut])
        try:
            rc = main(["continue", str(system), "--param", "p", "--from", "-1", "--to", "1",
                       "--max-steps", "5", "--no-cache"])
            runs += rc == 0
        except SystemExit as e:
            msg = str(e.code)
            assert msg.startswith("error: ") and f"sys_{k}" in msg, msg
    assert runs <= 2


# ------------------------------------------------------------- continuation settings


def _gru_problem():
    return Problem.from_gru(GRU(3.0 * rotation(math.pi / 4), jnp.zeros(2)), "bh[0]")


def test_x0_of_wrong_length_names_d():
    with pytest.raises(ValueError) as e:
        continuation(_gru_problem(), jnp.zeros(3), 0.0, p_min=-1, p_max=1)
    _assert_clear(e.value, "shape (3,)", "x0 must have length d = 2")


def test_vector_field_of_wrong_shape():
    def f(t, x, args):
        return jnp.array([x[0], x[0], args["a"]])

    with pytest.raises(ValueError) as e:
        continuation(Problem(f, {"a": 0.0}, "a"), jnp.zeros(2), 0.0, p_min=-1, p_max=1)
    _assert_clear(e.value, "returns shape (3,)", "state of shape (2,)")


def test_step_bounds_and_tolerance():
    pr, x0 = _gru_problem(), jnp.zeros(2)
    kw = dict(p_min=-1, p_max=1)
    with pytest.raises(ValueError) as e:
        continuation(pr, x0, 0.0, ds_min=0.5, ds_max=0.1, **kw)
    _assert_clear(e.value, "ds_min=0.5", "ds_max=0.1")
    with pytest.raises(ValueError) as e:  # against the default ds_max = 10 |ds|
        continuation(pr, x0, 0.0, ds=0.01, ds_min=1.0, **kw)
    _assert_clear(e.value, "ds_min=1", "ds_max=0.1 (the default")
    for tol in (-1.0, 0.0, float("nan"), float("inf")):
        with pytest.raises(ValueError) as e:
            continuation(pr, x0, 0.0, tol=tol, **kw)
        _assert_clear(e.value, "tol=", "positive finite")
    with pytest.warns(UserWarning) as rec:  # float64: no advice to enable float64
        _settings(pr, x0, tol=1e-20)
    text = " ".join(str(w.message) for w in rec)
    assert "cannot be reached in float64" in text and "Enable float64" not in text


def _settings(problem, x0, **kw):
    """`continuation`'s checks and settings only (no compilation)."""
    from gru_bif.continuation.api import build_continuation

    args = dict(p_min=-1, p_max=1, ds=0.01, ds_min=None, ds_max=None, max_steps=3,
                tol=None, max_newton=8, target_newton=3, max_angle=0.6,
                max_special_points=4, algorithm=gru_bif.PseudoArclength(), hopf="auto",
                stability=True)
    return build_continuation(problem, x0, 0.0, **{**args, **kw})


def test_tolerance_warning_float32_advises_float64():
    pr = Problem.from_gru(GRU(3.0 * rotation(math.pi / 4), jnp.zeros(2), dtype=jnp.float32),
                          "bh[0]")
    with pytest.warns(UserWarning, match="Enable float64"):
        _settings(pr, jnp.zeros(2, jnp.float32), tol=1e-9)


# --------------------------------------------------------------------- degenerate labels


def test_is_degenerate_scale_and_dtype():
    assert is_degenerate(0.0) and is_degenerate(1e-12) and not is_degenerate(1e-6)
    assert not is_degenerate(float("nan"))
    assert is_degenerate(1e-6, dtype=np.float32) and not is_degenerate(1e-2, dtype=np.float32)
    assert is_degenerate(1e-7, scale=100.0) and not is_degenerate(1e-7)
    assert hopf_criticality(-1.0, 1.0) == "supercritical"
    assert hopf_criticality(1.0, 1.0) == "subcritical"
    assert hopf_criticality(0.0, 1.0) == "degenerate"
    assert hopf_criticality(1e-9, 0.01) == "degenerate"  # l1 ~ 1/ω: scale 100


def test_degenerate_codim2_and_fold_labels(tmp_path):
    d = _branch_dict()
    d["special_points"][0]["a"] = 0.0  # a degenerate fold
    d["special_points"][1]["l1"] = 1e-17  # a degenerate Hopf point
    d["special_points"] += [
        {"kind": "cusp", "p": 0.0, "x": [0.0, 0.0], "p1": 0.0, "c": 3e-18},
        {"kind": "bt", "p": 0.1, "x": [0.0, 0.0], "p1": 0.0, "a": 1.0, "b": 0.0},
        {"kind": "bautin", "p": 0.2, "x": [0.0, 0.0], "p1": 0.0, "omega": 1.0, "l1": 0.0,
         "l2": -1e-20},
        {"kind": "cusp", "p": 0.3, "x": [0.0, 0.0], "p1": 0.0, "c": -2.0},
    ]
    br = Branch.from_dict(d)
    sps = br.special.to_list()
    assert [s["degenerate"] for s in sps] == [True, True, True, True, True, False]
    assert sps[1]["criticality"] == "degenerate"
    table = br.summary()
    assert table.count("(degenerate)") == 5 and "subcritical" not in table
    again = Branch.from_json(br.to_json())  # labels are recomputed, not data
    assert json.dumps(again.special.to_list()) == json.dumps(sps)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gru_bif.plotting import plot_bifurcation_diagram

    ax = plot_bifurcation_diagram(Branch.from_dict(_branch_dict()))
    assert not any("degenerate" in t.get_text() for t in ax.texts)
    ax = plot_bifurcation_diagram(br)
    assert sum("(degenerate)" in t.get_text() for t in ax.texts) == 5
    plt.close("all")


VDP = textwrap.dedent(
    """
    import jax.numpy as jnp
    PARAMS = {"mu": -1.0}
    X0 = [0.0, 0.0]
    def vector_field(t, x, p):
        return jnp.array([x[1], p["mu"] * (1 - x[0] ** 2) * x[1] - x[0]])
    """
)
"""Van der Pol: a Hopf point at μ = 0 where the cubic term vanishes (l1 = 0)."""


def test_van_der_pol_hopf_is_degenerate(tmp_path, capsys):
    system = tmp_path / "vdp.py"
    system.write_text(VDP)
    out, png = tmp_path / "vdp.json", tmp_path / "vdp.png"
    assert main(["continue", str(system), "--param", "mu", "--from", "-1", "--to", "1",
                 "--out", str(out), "--plot", str(png), "--no-cache"]) == 0
    text = capsys.readouterr().out
    (line,) = [ln for ln in text.splitlines() if ln.startswith("hopf")]
    assert "(degenerate)" in line and "critical" not in line
    (hopf,) = json.loads(out.read_text())["special_points"]
    assert abs(hopf["p"]) < 1e-12 and hopf["criticality"] == "degenerate"
    assert hopf["degenerate"] is True
    assert png.stat().st_size > 1000
    assert sorted(q.name for q in tmp_path.iterdir()) == ["vdp.json", "vdp.png", "vdp.py"]


# ------------------------------------------------------------------- whole files only


def test_writes_are_whole_or_nothing(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert sorted(q.name for q in tmp_path.iterdir()) == ["out.json"]
    write_atomic(target, "new")
    assert target.read_text() == "new"

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gru_bif._io import savefig_atomic

    fig = plt.figure()
    with pytest.raises(ValueError):
        savefig_atomic(fig, tmp_path / "fig.nope")
    savefig_atomic(fig, tmp_path / "fig.png")
    plt.close(fig)
    assert sorted(q.name for q in tmp_path.iterdir()) == ["fig.png", "out.json"]

    model = tmp_path / "gru.json"
    GRU(3.0 * jnp.eye(2)).save(model)
    before = sorted(q.name for q in tmp_path.iterdir())
    # bad output names are refused before any computation
    msg = _cli_error(["portrait", str(model), "--out", str(tmp_path / "fig.nope")])
    assert "--out" in msg and "'.nope'" in msg
    msg = _cli_error(["continue", str(model), "--param", "bh[0]", "--from", "0", "--to",
                      "1", "--out", str(tmp_path / "no_such_dir" / "b.json")])
    assert "no_such_dir" in msg and "does not exist" in msg
    assert sorted(q.name for q in tmp_path.iterdir()) == before


def test_branch_saves_are_atomic(tmp_path, monkeypatch):
    br = Branch.from_dict(_branch_dict())
    path = tmp_path / "b.npz"
    br.save_npz(path)
    old = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError):
        br.save_npz(path)
    assert path.read_bytes() == old
    assert sorted(q.name for q in tmp_path.iterdir()) == ["b.npz"]
    assert zipfile.is_zipfile(io.BytesIO(old))


def test_no_stray_outputs_in_notebooks():
    notebooks = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
    assert not (notebooks / "cli_cubic_diagram.png").exists()
    readme = (notebooks.parent / "README.md").read_text()
    assert "notebooks/cli_cubic_diagram.png" not in readme



def test_census_and_trained_files_give_clear_errors(tmp_path):
    from gru_bif import census, trained

    d = json.loads(trained.shipped_path("line").read_text())
    for name, mutate in [
        ("no_network", lambda d: d.pop("network")),
        ("bad_format", lambda d: d.__setitem__("format", "other")),
        ("bad_checkpoint", lambda d: d.__setitem__("checkpoints", [{"loss": 1.0}])),
    ]:
        bad = json.loads(json.dumps(d))
        mutate(bad)
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=path.name):
            trained.load(path)
    cut = tmp_path / "cut.json"
    cut.write_text(trained.shipped_path("line").read_text()[:200])
    with pytest.raises(ValueError, match="cut.json: not valid JSON"):
        trained.load(cut)
    # a census table: missing entry, wrong shape, truncated file
    for text, msg in [
        ('{"format": "gru_bif.census"}', "no 'scales' entry"),
        ("[1, 2]", "not a census table"),
    ]:
        with pytest.raises(ValueError, match=msg):
            census.CensusTable.from_json(text)
    path = tmp_path / "census.json"
    path.write_text('{"format": "gru_bif.cen')
    with pytest.raises(ValueError, match="census.json: not valid JSON"):
        census.CensusTable.from_json(path)
