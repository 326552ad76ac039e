"""The runner of `gru-bif reproduce`: the figures in order (`FIGURES`), `run` (compute
them, each failure reported and the rest still run) and `write_report` (`REPORT.md` and
`report.json`)."""

import json
import pathlib
import sys
import time
import traceback
from collections.abc import Callable

from .._io import write_atomic
from . import applications
from ._common import _plain, _x64
from .applications import fig_census, fig_trained
from .homoclinic_network import fig_homoclinic_network
from .one_parameter import fig_1d_saddle_node, fig_hopf_gru, fig_pseudo_line, fig_ring
from .plane import fig_parameter_plane
from .portraits import fig_1d_flows, fig_2d_portraits

HEADER = """\
# gru_bif: reproduction of Jordan, Sokół & Park (2021)

*Gated recurrent units viewed through the lens of continuous time dynamical systems*
(arXiv 1906.01005; Front. Comput. Neurosci. 15:678158).

**Which weights.** The paper's own weights are not known here. Every network below is a
*built* network from `gru_bif/data/paper_reference.md` (constructed and checked for this project to show
the phenomenon the paper describes), except the pseudo-line attractor, whose weights are
*reconstructed* from the nullclines of the paper's figure (x = tanh(−y), y = tanh(−x)).
All use U_z = 0, b_z = 0 (z = 1/2), U_r = 0, b_r = 0 (r = 1/2) unless stated, no input,
reset "before". Numbers stated "near" a value in paper_reference.md are compared to the digits stated
(the measured value must round to them). Values marked *(simulation)* come from
integrating the ODE (Diffrax), not from a located bifurcation point.
"""

FIGURES: dict[str, Callable[[pathlib.Path], dict]] = {
    "fig_1d_flows": fig_1d_flows,
    "fig_1d_saddle_node": fig_1d_saddle_node,
    "fig_2d_portraits": fig_2d_portraits,
    "fig_hopf_gru": fig_hopf_gru,
    "fig_homoclinic_network": fig_homoclinic_network,
    "fig_ring": fig_ring,
    "fig_pseudo_line": fig_pseudo_line,
    "fig_census": fig_census,
    "fig_trained": fig_trained,
    "fig_parameter_plane": fig_parameter_plane,
}
"""The figures, in order: name -> function(out_dir) -> {"files": [...], "rows": [...]}."""


# --------------------------------------------------------------------------- report


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_report(out: pathlib.Path, results: dict) -> None:
    """Write `REPORT.md` and `report.json` from `results` (name -> figure record)."""
    import jax

    meta = {
        "format": "gru_bif.report",
        "version": 1,
        "precision": "float64" if _x64() else "float32",
        "jax": jax.__version__,
        "backend": jax.default_backend(),
    }
    ordered = {k: results[k] for k in FIGURES if k in results}
    payload = dict(meta, figures=ordered)
    write_atomic(out / "report.json", json.dumps(_plain(payload), indent=1))
    lines = [HEADER, f"Precision: {meta['precision']}; JAX {meta['jax']} on {meta['backend']}.\n"]
    lines.append("| figure | claim | paper states | measured | agrees |")
    lines.append("|---|---|---|---|---|")
    for fname, rec in ordered.items():
        if rec["status"] != "ok":
            lines.append(f"| {fname} | (figure failed) | — | {_md_cell(rec.get('error', ''))} "
                         "| failed |")
            continue
        for r in rec["rows"]:
            lines.append(
                f"| {fname} | {_md_cell(r['claim'])} | {_md_cell(r['paper'])} | "
                f"{_md_cell(r['measured'])} | {r['agrees']} |"
            )
    lines.append("")
    lines.append("## Files\n")
    for fname, rec in ordered.items():
        files = ", ".join(f"`{pathlib.Path(f).name}`" for f in rec.get("files", [])) or "—"
        lines.append(f"- {fname}: {files} ({rec['status']}, {rec.get('seconds', 0):.1f} s)")
    tally = {}
    for rec in ordered.values():
        for r in rec.get("rows", []):
            tally[r["agrees"]] = tally.get(r["agrees"], 0) + 1
    lines.append("")
    lines.append("Summary: " + ", ".join(f"{v} {k}" for k, v in sorted(tally.items()))
                 + f"; {sum(r['status'] != 'ok' for r in ordered.values())} figure(s) failed.")
    write_atomic(out / "REPORT.md", "\n".join(lines) + "\n")


def run(out_dir, only: "str | None" = None, retrain: bool = False) -> int:
    """Compute the figures into `out_dir` (all, or just `only`), write `REPORT.md` and
    `report.json` there, and return an exit code (0 if every figure ran, else 1; 2 for
    an unknown figure name)."""
    import matplotlib

    matplotlib.use("Agg")
    out = pathlib.Path(out_dir)
    if only is not None and only not in FIGURES:
        print(f"error: unknown figure {only!r}; choose one of: {', '.join(FIGURES)}",
              file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    applications.RETRAIN["on"] = bool(retrain)
    if retrain:
        print("note: --retrain: fig_trained trains its three networks again (about a minute "
              "each) and writes their weights to the output folder.")
    names = [only] if only else list(FIGURES)
    results: dict = {}
    old = out / "report.json"
    if only and old.exists():  # keep the other figures' rows
        try:
            results = json.loads(old.read_text()).get("figures", {})
        except Exception:  # noqa: BLE001 - a damaged report is rewritten from scratch
            results = {}
    t_all = time.perf_counter()
    failed = 0
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name} ...", end=" ", flush=True)
        t0 = time.perf_counter()
        try:
            rec = FIGURES[name](out)
            rec = {"status": "ok", **rec}
        except Exception as e:  # noqa: BLE001 - report the failure, go on with the rest
            rec = {"status": "failed", "files": [], "rows": [],
                   "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                   "traceback": traceback.format_exc()}
            failed += 1
        rec["seconds"] = time.perf_counter() - t0
        results[name] = rec
        if rec["status"] == "ok":
            agree = [r["agrees"] for r in rec["rows"]]
            tally = ", ".join(f"{agree.count(k)} {k}" for k in ("yes", "no", "pending")
                              if agree.count(k))
            print(f"{rec['seconds']:.1f} s  ({tally})  -> "
                  + ", ".join(rec["files"]), flush=True)
        else:
            print(f"FAILED after {rec['seconds']:.1f} s: {rec['error']}", flush=True)
            print(rec["traceback"], file=sys.stderr, flush=True)
    write_report(out, results)
    print(f"wrote {out / 'REPORT.md'} and {out / 'report.json'} "
          f"({time.perf_counter() - t_all:.1f} s in all)")
    if failed:
        print(f"{failed} figure(s) failed; see REPORT.md", file=sys.stderr)
    return 1 if failed else 0
