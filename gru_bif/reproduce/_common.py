"""What every figure of `gru-bif reproduce` shares: report rows (`_row`, `_plain`,
`_rounds_to`, tolerances), saving a figure (`_save`), counting and formatting equilibria,
special points and simulated cycles, and the library calls made with `throw=False` and
checked on the host (`_find_equilibria`, `_continuation`, `_checked`). Below every figure
module; imports none of them.
"""

import pathlib

import numpy as np

from .._io import savefig_atomic


def _jax():
    import jax
    import jax.numpy as jnp

    return jax, jnp


def _x64() -> bool:
    import jax

    return bool(jax.config.jax_enable_x64)


def _tol_exact() -> float:
    """Agreement tolerance for values known in closed form or to 15 digits."""
    return 1e-8 if _x64() else 2e-4


def _rounds_to(measured: float, stated: str) -> bool:
    """Whether `measured` rounds to the decimal string `stated` (e.g. "-0.728")."""
    digits = len(stated.split(".")[1]) if "." in stated else 0
    return bool(np.isfinite(measured)) and round(measured, digits) == round(float(stated), digits)


def _row(figure, claim, paper, measured, agrees, **values) -> dict:
    if isinstance(agrees, (bool, np.bool_)):
        agrees = "yes" if agrees else "no"
    return {
        "figure": figure,
        "claim": claim,
        "paper": paper,
        "measured": measured,
        "agrees": agrees,
        "values": {k: _plain(v) for k, v in values.items()},
    }


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None
    if hasattr(v, "tolist"):
        return _plain(np.asarray(v).tolist())
    return v


def _add_legend_entry(ax, handle, label=None, **kw):
    """Append `handle` to the Axes' existing legend (or start one)."""
    leg = ax.get_legend()
    handles, labels = [], []
    if leg is not None:
        handles = list(leg.legend_handles)
        labels = [t.get_text() for t in leg.get_texts()]
    handles.append(handle)
    labels.append(label if label is not None else handle.get_label())
    kw.setdefault("fontsize", 8)
    kw.setdefault("loc", "best")
    ax.legend(handles, labels, **kw)


def _save(fig, out: pathlib.Path, name: str) -> str:
    path = out / f"{name}.png"
    savefig_atomic(fig, path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return str(path)


def _counts(eq) -> dict:
    return {k: int(v) for k, v in eq.counts().items()}


def _fmt_counts(c: dict) -> str:
    short = {
        "stable node": "sink",
        "stable focus": "stable focus",
        "unstable node": "source",
        "unstable focus": "unstable focus",
        "saddle": "saddle",
        "non-hyperbolic": "non-hyperbolic",
    }
    parts = [f"{n} {short.get(k, k)}{'s' if n != 1 else ''}" for k, n in c.items() if n]
    return f"{sum(c.values())}: " + ", ".join(parts)


def _specials(branch, kind: str) -> list[dict]:
    return sorted(
        (s for s in branch.special.to_list() if s["kind"] == kind), key=lambda s: s["p"]
    )


def _dedup_specials(specials: list[dict], tol: float = 1e-6) -> list[dict]:
    out: list[dict] = []
    for s in specials:
        if not any(
            abs(s["p"] - o["p"]) < tol and np.allclose(s["x"], o["x"], atol=1e-5) for o in out
        ):
            out.append(s)
    return out


def _cycle_stats(ts, xs, coord: int = 0) -> dict:
    """Period (mean time between upward crossings of the mid level, second half of the
    run) and extrema of an oscillation; period NaN if it does not oscillate."""
    t = np.asarray(ts)
    y = np.asarray(xs)[:, coord]
    half = len(t) // 2
    t, y = t[half:], y[half:]
    lo, hi = float(y.min()), float(y.max())
    if hi - lo < 1e-6:
        return {"period": float("nan"), "min": lo, "max": hi, "crossings": 0}
    s = y - 0.5 * (lo + hi)
    idx = np.nonzero((s[:-1] < 0) & (s[1:] >= 0))[0]
    tc = t[idx] - s[idx] * (t[idx + 1] - t[idx]) / (s[idx + 1] - s[idx])
    period = float(np.diff(tc).mean()) if len(tc) > 1 else float("nan")
    return {"period": period, "min": lo, "max": hi, "crossings": int(len(tc))}


_NT = 6001
"""Output times per simulation: one shape everywhere, so one compiled solver per system."""


def _times(t_end: float):
    _, jnp = _jax()
    return jnp.linspace(0.0, float(t_end), _NT)


def _speed_tail(f, args, xs, frac: float = 0.2) -> float:
    """Largest speed |f| over the last `frac` of a trajectory."""
    jax, jnp = _jax()
    tail = jnp.asarray(np.asarray(xs)[-max(2, int(frac * len(xs))) :])
    v = jax.vmap(lambda x: f(0.0, x, args))(tail)
    return float(jnp.max(jnp.linalg.norm(v, axis=-1)))


# Library calls with `throw=False`, checked here on the host: an executable that can
# raise from inside (a host callback) is never stored in JAX's persistent compilation
# cache, so with `throw=True` every run would compile the continuation loop again.


def _find_equilibria(*args, **kwargs):
    from ..equilibria import find_equilibria

    eq = find_equilibria(*args, throw=False, **kwargs)
    if int(eq.count) == 0:
        raise RuntimeError("find_equilibria: no start converged to an equilibrium")
    return eq


def _checked(branch):
    from ..continuation.api import start_failed

    if bool(start_failed(branch.result)):
        raise RuntimeError(f"continuation could not start: {branch.message}")
    return branch


def _continuation(*args, **kwargs):
    from ..continuation import continuation

    return _checked(continuation(*args, throw=False, **kwargs))


def _problem(gru, param="bh[0]"):
    from ..problem import Problem

    return Problem.from_gru(gru, param)
