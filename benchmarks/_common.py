"""Shared helpers for the benchmark scripts: machine description, child processes that
print one JSON line, peer availability, and writing JSON + Markdown.

Nothing here imports JAX at module level, so a parent script stays light and every
timing of a JAX tool happens in a child process that the parent started fresh.
"""

import importlib.metadata
import importlib.util
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results"

# Peers: Python module, distribution name, extra requirement, install hint.
PEERS = {
    "xpplab": ("xpplab", "xpplab", None, "pip install xpplab"),
    "bifpy": ("bifpy", "bifpy", "gfortran", "apt-get install -y gfortran && pip install bifpy"),
    "jaxcont": ("jaxcont", "jaxcont", None, "pip install jaxcont"),
}


def peer_status(name: str) -> str | None:
    """None if the peer can run here, else why not (`"not installed (...)"`)."""
    module, _, needs, hint = PEERS[name]
    if importlib.util.find_spec(module) is None:
        return f"not installed ({hint})"
    if needs is not None and shutil.which(needs) is None:
        return f"not installed ({needs} missing: {hint})"
    return None


def version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine(dtype: str = "float64") -> dict:
    """Where and with what the numbers were taken."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": version("jax"),
        "jaxlib": version("jaxlib"),
        "gru_bif": version("gru_bif"),
        "xpplab": version("xpplab"),
        "bifpy": version("bifpy"),
        "jaxcont": version("jaxcont"),
        "dtype": dtype,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_average_at_start": load_average(),
    }


def child_env(extra: dict | None = None) -> dict:
    """The environment of a child process: the parent's, without its XLA_FLAGS (device
    counts are set per child) but with BENCH_EXTRA_XLA_FLAGS (e.g. the quick mode's
    lower optimisation level), plus `extra`."""
    env = {**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    env.pop("XLA_FLAGS", None)
    extra = dict(extra or {})
    flags = " ".join(f for f in (os.environ.get("BENCH_EXTRA_XLA_FLAGS", ""),
                                 extra.pop("XLA_FLAGS", "")) if f)
    if flags:
        env["XLA_FLAGS"] = flags
    env.update(extra)
    return env


def run_child(args: list[str], *, env: dict | None = None, timeout: float = 900) -> dict:
    """Run `python <args>` in a fresh process; return the JSON object it printed last,
    or `{"status": "failed: ..."}` (never raises)."""
    try:
        out = subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, timeout=timeout,
            env=child_env(env),
        )
    except subprocess.TimeoutExpired:
        return {"status": f"failed: timed out after {timeout:.0f} s"}
    for line in reversed(out.stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    err = (out.stderr.strip().splitlines() or ["no output"])[-1]
    return {"status": f"failed (exit {out.returncode}): {err[:300]}"}


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def write(out_dir, stem: str, data: dict, md_lines: list[str]) -> None:
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(data, indent=1, default=_jsonable) + "\n")
    (out / f"{stem}.md").write_text("\n".join(md_lines) + "\n")


def _jsonable(x):
    try:
        return float(x)
    except Exception:
        return str(x)


def fmt_time(s) -> str:
    if s is None or not isinstance(s, (int, float)) or s != s:
        return "—"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{1e3 * s:.2f} ms"
    return f"{1e6 * s:.1f} µs"


def fmt_err(e) -> str:
    if e is None or not isinstance(e, (int, float)) or e != e:
        return "—"
    return f"{e:.1e}"


def fmt_ratio(r) -> str:
    if r is None or not isinstance(r, (int, float)) or r != r:
        return "—"
    return f"{r:.3g}×"


def header(title: str, meta: dict) -> list[str]:
    load = meta.get("load_average_at_start")
    return [
        f"# {title}",
        "",
        f"{meta['cpu']}, {meta['cores']} cores; {meta['dtype']}; jax {meta['jax']}; "
        f"{meta['date']}; load average at start {load}.",
        "",
    ]
