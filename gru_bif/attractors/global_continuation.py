"""Global continuation of attractors over a parameter (after Attractors.jl's
`global_continuation`), tied to the local bifurcations that gru_bif's own continuation
locates.

[`gru_bif.attractors.continue_attractors`][] runs
[`gru_bif.attractors.find_attractors`][] at every value of a parameter grid, from the
same initial states (common random numbers: differences between neighbouring values are
not blurred by resampling), and matches the attractors of neighbouring values greedily:
pairs of the same kind in order of increasing distance, each attractor used once, pairs
farther apart than `match_tol` not matched. Distances: max-norm between fixed points,
the phase-independent orbit distance (`orbit_distance`) between cycles, max-norm
between the features of other attractors; attractors of different kinds never match.
An attractor present at one grid value and unmatched at the next has died in between
(or, read the other way, was born).

**Tying births and deaths to bifurcations.** The grid only brackets an event; the
tie locates it with gru_bif's own continuation, on a defining system (to ~1e-12 in
float64), not on the grid.

- *A fixed point* that dies (or is born) between `p_a` (where it exists) and `p_b`: its
  equilibrium is continued with [`gru_bif.continuation`][] from `p_a` towards `p_b`;
  the first fold, Hopf point or branch point located inside `[p_a, p_b]` is the
  bifurcation.
- *A cycle*: the cycle itself is continued from `p_a` towards `p_b`
  ([`gru_bif.periodic.cycle_from_simulation`][] from its orbit, then
  [`gru_bif.periodic.continue_cycles`][], with mesh adaptation and located ends). The
  first genuine special point of the cycle branch inside the bracket ties it (a fold of
  cycles, where it meets an unstable cycle; a period doubling or a Neimark–Sacker
  point, where it loses stability to a doubled cycle or a torus), or else the located
  end of the branch inside the bracket: a Hopf point (the cycle shrinks onto an
  equilibrium), a homoclinic orbit (its period grows without bound at a saddle) or a
  SNIC (at a fold of equilibria on the orbit). If that continuation cannot start or
  finds nothing, the cycle falls back on the Hopf point of a fixed point tied in the
  same interval, then on the Hopf point of the equilibrium inside the cycle (Newton
  from the orbit's mean, continued across the interval).

Anything else (a crisis of a chaotic set, an event the continuations miss) is reported
as *untied*, with its grid interval.
"""

import dataclasses
import warnings
from typing import Any

import equinox as eqx
import numpy as np

from ..branch import SpecialKind
from ..problem import Problem
from .find import find_attractors
from .group import orbit_distance
from .results import CYCLE, FIXED_POINT, Attractors, kind_name

_TIE_KINDS = (SpecialKind.FOLD, SpecialKind.HOPF, SpecialKind.BRANCH_POINT)
#: special points of a cycle branch that end a stable cycle as an attractor
_CYCLE_TIE_KINDS = (
    SpecialKind.FOLD_CYCLE, SpecialKind.PERIOD_DOUBLING, SpecialKind.NEIMARK_SACKER,
)
#: located ends of a cycle branch that tie a birth or death
_CYCLE_TIE_ENDS = ("hopf", "homoclinic", "snic")


@dataclasses.dataclass(frozen=True)
class AttractorEvent:
    """A birth or death of an attractor between two grid values.

    **Fields:**

    - `event`: `"birth"` or `"death"` (in the direction of increasing grid index).
    - `attractor`: the global id of the attractor; `attractor_kind`: its kind name.
    - `p_exists`, `p_gone`: the neighbouring grid values where it exists and where it
        does not.
    - `tied_to`: the kind label of the located bifurcation (`"fold"`, `"hopf"`,
        `"branch_point"`), or `None` if untied.
    - `p`: the located parameter value (NaN if untied); `x`: the state there (or
        `None`); `located`: whether the engine's location converged.
    """

    event: str
    attractor: int
    attractor_kind: str
    p_exists: float
    p_gone: float
    tied_to: "str | None" = None
    p: float = float("nan")
    x: "tuple[float, ...] | None" = None
    located: bool = False

    @property
    def tied(self) -> bool:
        return self.tied_to is not None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["x"] = None if self.x is None else list(self.x)
        d["p"] = None if not np.isfinite(self.p) else float(self.p)
        return d


class GlobalContinuation(eqx.Module):
    """The result of [`gru_bif.attractors.continue_attractors`][]: `P` grid values, `G`
    attractors over the whole grid (global ids).

    **Fields:**

    - `p`: `(P,)` the grid; `param_name`: the parameter's label.
    - `fractions`, `standard_errors`: `(P, G)` basin fraction of each attractor at each
        grid value (0 where it does not exist) and its standard error.
    - `present`: `(P, G)` where each attractor exists.
    - `kind`: `(G,)` indices into `ATTRACTOR_KINDS`.
    - `ids`: `(P, K)` the global id of each row of `attractors[k]` (`-1` padding).
    - `unlabelled`: `(P,)` the fraction of samples in no basin.
    - `attractors`: the `Attractors` found at each grid value.
    - `events`: the births and deaths, each an `AttractorEvent`.
    """

    p: np.ndarray
    fractions: np.ndarray
    standard_errors: np.ndarray
    present: np.ndarray
    kind: np.ndarray
    ids: np.ndarray
    unlabelled: np.ndarray
    attractors: tuple
    events: tuple = eqx.field(static=True)
    param_name: str = eqx.field(static=True, default="p")

    @property
    def num_attractors(self) -> int:
        return int(self.kind.shape[0])

    def summary(self) -> str:
        lines = [
            f"global continuation in {self.param_name}: {len(self.p)} values from "
            f"{self.p[0]:.6g} to {self.p[-1]:.6g}, {self.num_attractors} attractors"
        ]
        for g in range(self.num_attractors):
            where = self.p[self.present[:, g]]
            lines.append(
                f"  #{g} {kind_name(int(self.kind[g])):<11} on [{where.min():.6g}, "
                f"{where.max():.6g}], fraction up to {self.fractions[:, g].max():.4f}"
            )
        for e in self.events:
            tie = (
                f"{e.tied_to} at {self.param_name} = {e.p:.15g}"
                if e.tied else f"untied, between {e.p_exists:.6g} and {e.p_gone:.6g}"
            )
            lines.append(f"  {e.event} of #{e.attractor} ({e.attractor_kind}): {tie}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "gru_bif.global_continuation",
            "version": 1,
            "param": self.param_name,
            "p": [float(v) for v in self.p],
            "kind": [kind_name(int(k)) for k in self.kind],
            "fractions": self.fractions.tolist(),
            "standard_errors": self.standard_errors.tolist(),
            "unlabelled": [float(v) for v in self.unlabelled],
            "events": [e.to_dict() for e in self.events],
        }


def _host(att: Attractors) -> dict[str, np.ndarray]:
    n = int(att.count)
    return {
        "n": n,
        "kind": np.asarray(att.kind)[:n],
        "x": np.asarray(att.x)[:n],
        "orbit": np.asarray(att.orbit)[:n],
        "features": np.asarray(att.features)[:n],
        "fractions": np.asarray(att.fractions)[:n],
        "se": np.asarray(att.standard_errors)[:n],
        "period": np.asarray(att.period)[:n],
    }


def _distance(a: dict, i: int, b: dict, j: int) -> float:
    if a["kind"][i] != b["kind"][j]:
        return np.inf
    k = a["kind"][i]
    if k == FIXED_POINT:
        return float(np.max(np.abs(a["x"][i] - b["x"][j])))
    if k == CYCLE:
        return float(orbit_distance(a["orbit"][i], b["orbit"][j]))
    return float(np.max(np.abs(a["features"][i] - b["features"][j])))


def _match(a: dict, b: dict, match_tol: float) -> dict[int, int]:
    """Greedy matching: pairs in order of increasing distance, each row used once."""
    pairs = sorted(
        (_distance(a, i, b, j), i, j) for i in range(a["n"]) for j in range(b["n"])
    )
    used_a, used_b, out = set(), set(), {}
    for dist, i, j in pairs:
        if not np.isfinite(dist) or dist > match_tol:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out[j] = i
    return out


def _locate_on_equilibria(problem, x, p_from, p_to, kinds, continuation_kwargs):
    """Continue the equilibrium `x` at `p_from` towards `p_to`; the first special point
    of one of `kinds` inside the bracket, as `(label, p, x, located)`, or `None`."""
    from ..continuation import continuation

    lo, hi = min(p_from, p_to), max(p_from, p_to)
    width = hi - lo
    kw = dict(ds=width / 20, ds_max=width / 4, max_steps=400, max_special_points=16)
    kw.update(continuation_kwargs)
    ds = abs(kw.pop("ds")) * (1.0 if p_to > p_from else -1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            br = continuation(
                problem, np.asarray(x), p_from,
                p_min=lo - 0.01 * width, p_max=hi + 0.01 * width, ds=ds,
                throw=False, **kw,
            )
        except Exception:  # the start does not converge: leave the event untied
            return None
    sp = br.special
    n = int(sp.count)
    kind = np.asarray(sp.kind)[:n]
    ps = np.asarray(sp.p)[:n]
    slack = 1e-9 * max(1.0, abs(lo), abs(hi))
    for i in np.argsort(np.asarray(sp.index)[:n], kind="stable"):
        if int(kind[i]) in [int(k) for k in kinds] and lo - slack <= ps[i] <= hi + slack:
            return (
                SpecialKind(int(kind[i])).label,
                float(ps[i]),
                tuple(float(v) for v in np.asarray(sp.x[i])),
                bool(np.asarray(sp.located)[i]),
            )
    return None


def continue_attractors(
    problem: Problem,
    p_values: Any,
    states: Any,
    *,
    match_tol: float = np.inf,
    tie: bool = True,
    continuation_kwargs: "dict | None" = None,
    cycle_kwargs: "dict | None" = None,
    **find_kwargs,
) -> GlobalContinuation:
    """Global continuation: the attractors and their basin fractions over a parameter
    grid, matched from one value to the next, with births and deaths tied to the
    located local bifurcations (see the module docstring).

    **Arguments:**

    - `problem`: a `gru_bif.Problem`; its parameter is the one varied.
    - `p_values`: the grid, a 1-D array of at least two strictly monotone values.
    - `states`: the initial states `(N, d)`, the same at every grid value.
    - `match_tol`: attractors of neighbouring values farther apart than this are not
        matched (default `inf`: the nearest of each kind matches).
    - `tie`: locate the bifurcation of each birth and death (default `True`).
    - `continuation_kwargs`: passed to `gru_bif.continuation` when tying fixed points
        (defaults: `ds` a twentieth of the interval, `max_steps=400`).
    - `cycle_kwargs`: passed to `gru_bif.periodic.continue_cycles` when tying cycles
        (defaults: `ds` the smaller of 0.02 and a fifth of the interval,
        `max_steps=300`, `ntst=40`); `"t_transient"` and `"ntst"` go to
        `cycle_from_simulation`.
    - `**find_kwargs`: passed to [`gru_bif.attractors.find_attractors`][] (the same at
        every value, so it compiles once).

    **Returns:** a [`gru_bif.attractors.GlobalContinuation`][].

    **Raises:** `ValueError` for a problem that is not a `gru_bif.Problem`, or a grid
    that is not 1-D, strictly monotone, finite, with at least two values.
    """
    if not isinstance(problem, Problem):
        raise ValueError(
            "`problem` must be a gru_bif.Problem (its parameter is the one varied); got "
            f"{type(problem).__name__}."
        )
    p_values = np.asarray(p_values, float)
    if p_values.ndim != 1 or p_values.size < 2:
        raise ValueError(
            f"`p_values` must be a 1-D grid of at least two values; got shape "
            f"{p_values.shape}."
        )
    dp = np.diff(p_values)
    if not np.all(np.isfinite(p_values)) or not (np.all(dp > 0) or np.all(dp < 0)):
        raise ValueError(
            f"`p_values` must be finite and strictly monotone; got {p_values}."
        )
    if not match_tol > 0:
        raise ValueError(f"match_tol={match_tol}; it must be positive (or inf).")
    continuation_kwargs = dict(continuation_kwargs or {})
    cycle_kwargs = dict(cycle_kwargs or {})

    results = []
    hosts = []
    for p in p_values:
        att = find_attractors(problem.with_p(p), None, states, **find_kwargs)
        results.append(att)
        hosts.append(_host(att))
    P = len(p_values)
    K = int(results[0].kind.shape[0])
    ids = np.full((P, K), -1, int)
    kinds: list[int] = []
    for j in range(hosts[0]["n"]):
        ids[0, j] = len(kinds)
        kinds.append(int(hosts[0]["kind"][j]))
    for k in range(1, P):
        m = _match(hosts[k - 1], hosts[k], match_tol)
        for j in range(hosts[k]["n"]):
            if j in m:
                ids[k, j] = ids[k - 1, m[j]]
            else:
                ids[k, j] = len(kinds)
                kinds.append(int(hosts[k]["kind"][j]))
    G = len(kinds)
    frac = np.zeros((P, G))
    se = np.zeros((P, G))
    present = np.zeros((P, G), bool)
    for k in range(P):
        for j in range(hosts[k]["n"]):
            g = ids[k, j]
            frac[k, g] = hosts[k]["fractions"][j]
            se[k, g] = hosts[k]["se"][j]
            present[k, g] = True

    # births and deaths
    raw = []  # (event, g, k_exists, k_gone, row at k_exists)
    for k in range(1, P):
        for g in range(G):
            if present[k - 1, g] and not present[k, g]:
                j = int(np.nonzero(ids[k - 1] == g)[0][0])
                raw.append(("death", g, k - 1, k, j))
            if present[k, g] and not present[k - 1, g]:
                j = int(np.nonzero(ids[k] == g)[0][0])
                raw.append(("birth", g, k, k - 1, j))
    ties: dict[int, tuple] = {}
    if tie:
        # fixed points first: their continuation ties them, and cycles can share it
        for n, (ev, g, ke, kg, j) in enumerate(raw):
            if kinds[g] == FIXED_POINT:
                t = _locate_on_equilibria(
                    problem, hosts[ke]["x"][j], float(p_values[ke]), float(p_values[kg]),
                    _TIE_KINDS, continuation_kwargs,
                )
                if t is not None:
                    ties[n] = t
        for n, (ev, g, ke, kg, j) in enumerate(raw):
            if kinds[g] != CYCLE:
                continue
            t = _tie_cycle_on_cycles(
                problem, hosts[ke]["orbit"][j], float(hosts[ke]["period"][j]),
                float(p_values[ke]), float(p_values[kg]), cycle_kwargs,
            )
            if t is not None:
                ties[n] = t
                continue
            interval = {ke, kg}
            for m, (ev2, g2, ke2, kg2, _) in enumerate(raw):
                if (
                    m in ties and ties[m][0] == "hopf" and {ke2, kg2} == interval
                    and kinds[g2] == FIXED_POINT and ev2 != ev
                ):
                    ties[n] = ties[m]
                    break
            if n in ties:
                continue
            t = _tie_cycle_to_hopf(
                problem, hosts[ke]["orbit"][j], float(p_values[ke]), float(p_values[kg]),
                continuation_kwargs,
            )
            if t is not None:
                ties[n] = t
    events = []
    for n, (ev, g, ke, kg, j) in enumerate(raw):
        t = ties.get(n)
        events.append(AttractorEvent(
            event=ev,
            attractor=g,
            attractor_kind=kind_name(kinds[g]),
            p_exists=float(p_values[ke]),
            p_gone=float(p_values[kg]),
            tied_to=None if t is None else t[0],
            p=float("nan") if t is None else t[1],
            x=None if t is None else t[2],
            located=False if t is None else t[3],
        ))
    return GlobalContinuation(
        p=p_values,
        fractions=frac,
        standard_errors=se,
        present=present,
        kind=np.asarray(kinds, int),
        ids=ids,
        unlabelled=np.asarray([float(a.unlabelled_fraction) for a in results]),
        attractors=tuple(results),
        events=tuple(events),
        param_name=problem.param.label,
    )


def _tie_cycle_to_hopf(problem, orbit, p_from, p_to, continuation_kwargs):
    """The equilibrium inside a cycle (Newton from the orbit's mean), continued across
    the interval: its Hopf point there, or `None`."""
    from ..equilibria import find_equilibria

    guess = np.mean(orbit, axis=0)[None, :]
    try:
        eq = find_equilibria(problem.with_p(p_from), None, guess, throw=False)
    except Exception:
        return None
    if int(eq.count) == 0:
        return None
    return _locate_on_equilibria(
        problem, np.asarray(eq.x[0]), p_from, p_to, (SpecialKind.HOPF,),
        continuation_kwargs,
    )


def _tie_cycle_on_cycles(problem, orbit, period, p_from, p_to, cycle_kwargs):
    """Continue the cycle `orbit` (period `period`) at `p_from` towards `p_to`: the
    first genuine special point of its branch inside the bracket, or the branch's
    located end there, as `(label, p, x, located)`; `None` if neither."""
    from ..periodic import continue_cycles, cycle_from_simulation

    if not np.isfinite(period) or period <= 0 or not np.all(np.isfinite(orbit)):
        return None
    lo, hi = min(p_from, p_to), max(p_from, p_to)
    width = hi - lo
    slack = 1e-9 * max(1.0, abs(lo), abs(hi))
    kw = dict(ds=min(0.02, width / 5), max_steps=300)
    kw.update(cycle_kwargs)
    start_kw = {k: kw.pop(k) for k in ("t_transient", "ntst", "ncol") if k in kw}
    start_kw.setdefault("t_transient", period)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cp, u0 = cycle_from_simulation(
                problem.with_p(p_from), np.asarray(orbit[0]),
                max_period=1.5 * period, **start_kw,
            )
            cycles = continue_cycles(
                cp, u0, p_min=lo - 0.01 * width, p_max=hi + 0.01 * width,
                direction="forward" if p_to > p_from else "backward",
                throw=False, **kw,
            )
        except Exception:  # the cycle cannot be started or continued: try the others
            return None
    sp = cycles.special
    n = int(sp.count)
    kind = np.asarray(sp.kind)[:n]
    ps = np.asarray(sp.p)[:n]
    wanted = [int(k) for k in _CYCLE_TIE_KINDS]
    for i in np.argsort(np.asarray(sp.index)[:n], kind="stable"):
        if int(kind[i]) in wanted and lo - slack <= ps[i] <= hi + slack:
            x = np.asarray(cycles.special_orbit(int(i), 8)[1])[0]
            return (
                SpecialKind(int(kind[i])).label,
                float(ps[i]),
                tuple(float(v) for v in x),
                bool(np.asarray(sp.located)[i]),
            )
    end = cycles.end
    if (
        end is not None and end.kind in _CYCLE_TIE_ENDS and end.located
        and lo - slack <= end.p <= hi + slack
    ):
        return (end.kind, float(end.p), tuple(float(v) for v in end.x), True)
    return None
