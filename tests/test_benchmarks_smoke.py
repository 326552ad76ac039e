"""The benchmark suite keeps working: `benchmarks/run_all.py --quick` runs every script
and writes JSON with the expected keys; a peer that is not installed gives a row that
says so instead of an error."""

import importlib.util
import json
import pathlib
import subprocess
import sys

import pytest

# CI runs the whole quick suite (`run_all.py --quick`, every script but the two-process
# one: a few minutes on two idle cores, mostly XLA compilation), the cheap checks below, and the GPU script's
# quick diagram section on the CPU.

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(BENCH))
    return mod


def test_missing_peer_is_a_row_not_an_error(monkeypatch):
    peers = _load("bench_peers")
    monkeypatch.setitem(
        peers.C.PEERS, "xpplab", ("no_such_module_xyz", "no-such", None, "pip install x")
    )
    monkeypatch.setitem(
        peers.C.PEERS, "bifpy", ("json", "json", "no-such-compiler-xyz", "apt-get ...")
    )
    assert peers.C.peer_status("bifpy") == (
        "not installed (no-such-compiler-xyz missing: apt-get ...)"
    )
    row = peers.run_tool("xpplab", "gru", 1, str(BENCH / "bench_peers.py"))
    assert row == {"tool": "xpplab", "status": "not installed (pip install x)"}


def test_accuracy_against_known_points():
    peers = _load("bench_peers")
    truth = peers.PROBLEMS["gru"]["truth"]
    h = peers.HOPF_GRU
    errors, max_err, found = peers.accuracy([("hopf", -h + 1e-9), ("hopf", h)], truth)
    assert found == {"hopf": 2} and max_err == pytest.approx(1e-9, rel=1e-3)
    _, max_err, found = peers.accuracy([("hopf", h)], truth)
    assert found == {"hopf": 1} and max_err != max_err  # a missed point is NaN
    assert peers.accuracy(None, truth) == (None, None, None)  # a tool without events


def test_run_all_quick(tmp_path):
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=1500,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    diagram = json.loads((out / "diagram.json").read_text())
    for key in ("cold_s", "warm_median_s", "cold_from_cache_s", "hopf_error", "points"):
        assert key in diagram
    assert diagram["hopf_error"] < 1e-8

    peers = json.loads((out / "peers.json").read_text())
    assert {"meta", "problems"} <= peers.keys()
    rows = {r["tool"]: r for r in peers["problems"]["gru"]["rows"]}
    assert set(rows) == {"gru_bif", "gru_bif_cached", "xpplab", "bifpy", "jaxcont",
                         "jaxcont_engine"}
    ours = rows["gru_bif"]
    assert ours["status"] == "ok" and ours["max_error"] < 1e-8
    for key in ("cold_s", "warm_s", "points", "located", "found"):
        assert key in ours
    for r in rows.values():
        assert r["status"] == "ok" or r["status"].startswith(("not installed", "skipped"))
        if r["status"] == "ok" and r["tool"] != "gru_bif":
            assert "warm_ratio" in r and "cold_ratio" in r
    assert (out / "peers.md").exists()

    batch = json.loads((out / "batch.json").read_text())
    assert {"meta", "xpplab", "runs"} <= batch.keys()
    for nd in ("1", "2"):
        run = batch["runs"][nd]
        assert run["status"] == "ok"
        row = run["rows"][0]
        for key in ("n", "compile_s", "run_s", "diagrams_per_s", "per_diagram_s",
                    "speedup_vs_xpplab", "speedup_vs_1_device", "started", "mean_hopf"):
            assert key in row
        assert row["devices"] == int(nd)

    ends = json.loads((out / "cycle_ends.json").read_text())
    ours = ends["rows"]["gru_bif"]
    assert ours["status"] == "ok" and ours["located"] and ours["error"] < 1e-9
    assert ours["special_points"] == 0

    latency = json.loads((out / "latency.json").read_text())
    cont = latency["entries"]["continuation"]["cold"]
    for key in ("trace_s", "lower_s", "compile_s", "first_s", "warm_s", "programs"):
        assert key in cont
    assert cont["check"] < 1e-12  # the Hopf points, located

    het = json.loads((out / "heteroclinic.json").read_text())["cases"]
    assert het["pendulum"]["status"] == "ok" and abs(het["pendulum"]["mu_at_0"]) < 1e-8
    assert het["ring"]["edges"] == 8
    for key in ("compile_s", "cold_s", "warm_s"):
        assert key in het["ring"] and key in het["curve"]

    size = json.loads((out / "size.json").read_text())
    row = size["rows"][0]
    assert row["status"] == "ok"
    for key in ("d", "equilibria_warm_s", "equilibria_cold_s", "lu_s", "peak_rss_bytes"):
        assert key in row
    for key in ("step_s", "steps", "compile_s", "gflops", "step_over_lu"):
        assert key in row["default"]


def _gpu_script_on_cpu(tmp_path, sections: str, dtypes: str) -> dict:
    """Run `bench_gpu.py --device cpu --quick` on `sections` and `dtypes`; its JSON."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench_gpu.py"), "--device", "cpu", "--quick",
         "--sections", sections, "--dtypes", dtypes, "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((tmp_path / "gpu_cpu.json").read_text())


def test_gpu_script_on_cpu_quick(tmp_path):
    """The one-accelerator script runs on the CPU (`--device cpu`): quick diagram
    section, float64 and float32, JSON + Markdown written, points located."""
    res = _gpu_script_on_cpu(tmp_path, "diagram", "float64,float32")
    secs = {(r["section"], r["dtype"]): r for r in res["sections"]}
    assert set(secs) == {("diagram", "float64"), ("diagram", "float32")}
    for (_, dtype), sec in secs.items():
        assert sec["status"] == "ok", sec
        rows = {r["problem"]: r for r in sec["rows"]}
        assert rows["gru"]["found"] == 2 and rows["cubic"]["found"] == 2
        tol = 1e-12 if dtype == "float64" else 1e-5
        assert rows["gru"]["error"] < tol and rows["cubic"]["error"] < tol
    assert (tmp_path / "gpu_cpu.md").exists()


def test_gpu_script_basins_and_dissect_on_cpu_quick(tmp_path):
    """The device script's basins and dissect sections run on the CPU (quick sizes):
    the four-state machine's fractions within 3 standard errors of ¼, a fixed point of
    the d = 16 network found, continued, and its leading modes agree (dense, Arnoldi)."""
    res = _gpu_script_on_cpu(tmp_path, "basins,dissect", "float64")
    secs = {r["section"]: r for r in res["sections"]}
    assert secs["basins"]["status"] == "ok" and secs["dissect"]["status"] == "ok"
    (b,) = secs["basins"]["rows"]
    assert b["attractors"] == 4 and b["max_se_from_quarter"] < 3 and b["states_per_s"] > 0
    (d,) = secs["dissect"]["rows"]
    assert d["stable"] >= 1 and d["branch_points"] > 1 and d["arnoldi_error"] < 1e-8
