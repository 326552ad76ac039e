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

**Tying births and deaths to bifurcations.** The grid only brackets an event. For a
fixed point that dies (or is born) between `p_a` (where it exists) and `p_b`, its
equilibrium is continued with [`gru_bif.continuation`][] from `p_a` towards `p_b`; the
first fold, Hopf point or branch point the engine locates inside `[p_a, p_b]` is the
bifurcation, with its parameter located on the defining system (to ~1e-12 in float64),
not the grid's. A fixed point that loses stability at a Hopf point gives way to a cycle
(supercritical) or to nothing nearby (subcritical). A cycle born or dying in the same
interval as a fixed point tied to a Hopf point is tied to that Hopf point; otherwise the
equilibrium inside the cycle (Newton from the orbit's mean) is continued across the
interval and a Hopf point located there ties it. Anything else (a fold of cycles, a
homoclinic orbit, a crisis) is reported as *untied*, with its grid interval.
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
    - `continuation_kwargs`: passed to `gru_bif.continuation` when tying (defaults:
        `ds` a twentieth of the interval, `max_steps=400`).
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
