"""Results of a continuation: `Branch` and its `SpecialPoints`, with (de)serialisation.

Every array has a fixed capacity and is padded with NaN (integers with -1, kinds with
`SpecialKind.NONE`); `num_points` / `special.count` say how many entries are real. This
makes results pytrees of static shape, so `jit`, `vmap` and `grad` work through them.
"""

import enum
import json
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ._custom_types import Array, Bool, Float, Int
from ._results import RESULTS


class SpecialKind(enum.IntEnum):
    """Kinds of special points. Compare arrays with them directly:
    `branch.special.kind == SpecialKind.HOPF`."""

    NONE = 0
    FOLD = 1
    HOPF = 2
    BRANCH_POINT = 3
    CUSP = 4
    BT = 5
    BAUTIN = 6
    HOMOCLINIC = 7
    FOLD_CYCLE = 8
    PERIOD_DOUBLING = 9
    NEIMARK_SACKER = 10
    ZERO_HOPF = 11
    DOUBLE_HOPF = 12

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def from_label(cls, label: str) -> "SpecialKind":
        for k, v in _LABELS.items():
            if v == label:
                return k
        raise ValueError(
            f"Unknown special-point kind {label!r}; known: {sorted(_LABELS.values())}."
        )


_LABELS = {
    SpecialKind.NONE: "none",
    SpecialKind.FOLD: "fold",
    SpecialKind.HOPF: "hopf",
    SpecialKind.BRANCH_POINT: "branch_point",
    SpecialKind.CUSP: "cusp",
    SpecialKind.BT: "bt",
    SpecialKind.BAUTIN: "bautin",
    SpecialKind.HOMOCLINIC: "homoclinic",
    SpecialKind.FOLD_CYCLE: "fold_cycle",
    SpecialKind.PERIOD_DOUBLING: "period_doubling",
    SpecialKind.NEIMARK_SACKER: "neimark_sacker",
    SpecialKind.ZERO_HOPF: "zero_hopf",
    SpecialKind.DOUBLE_HOPF: "double_hopf",
}

# Which entries of `SpecialPoints.data` are meaningful for which kind.
DATA_FIELDS = {
    SpecialKind.FOLD: ("a",),
    SpecialKind.HOPF: ("omega", "l1"),
    SpecialKind.BRANCH_POINT: (),
    SpecialKind.FOLD_CYCLE: ("period", "mu_re", "mu_im"),
    SpecialKind.PERIOD_DOUBLING: ("period", "mu_re", "mu_im"),
    SpecialKind.NEIMARK_SACKER: ("period", "mu_re", "mu_im"),
    SpecialKind.HOMOCLINIC: ("period", "saddle_quantity"),
    # codim-2 points of fold/Hopf curves (gru_bif.bifurcations.curves); p1: first parameter
    SpecialKind.CUSP: ("p1", "c"),
    SpecialKind.BT: ("p1", "a", "b"),
    SpecialKind.BAUTIN: ("p1", "omega", "l1", "l2"),
    SpecialKind.ZERO_HOPF: ("p1", "omega"),
    SpecialKind.DOUBLE_HOPF: ("p1", "omega", "omega2"),
}
_BASE_FIELDS = ("kind", "p", "x", "index", "precision", "located", "criticality")


class SpecialPoints(eqx.Module):
    """Special points of a branch, capacity `K` (`max_special_points`), NaN-padded.

    **Fields:**

    - `kind`: `(K,)` ints, `SpecialKind` values (`NONE` for padding).
    - `p`: `(K,)` parameter values; `x`: `(K, d)` states.
    - `index`: `(K,)` index of the branch point just before the special point (-1 pad).
    - `precision`: `(K,)` width of the final bracket in arclength (how well the point is
        located along the branch).
    - `located`: `(K,)` whether the location converged (if not, the point is the best
        estimate found).
    - `tangent`: `(K, d + 1)` the branch tangent at the point (for switching).
    - `data`: dict of `(K,)` arrays: `omega` (Hopf frequency), `l1` (first Lyapunov
        coefficient; < 0 supercritical), `a` (fold: quadratic normal-form coefficient
        `a = <p, B(q, q)>/2` with `|q| = 1`, `<p, q> = 1`). NaN where not applicable.
    - `count`: number of real entries.
    """

    kind: Int[Array, " K"]
    p: Float[Array, " K"]
    x: Float[Array, "K d"]
    index: Int[Array, " K"]
    precision: Float[Array, " K"]
    located: Bool[Array, " K"]
    tangent: Float[Array, "K d1"]
    data: dict[str, Float[Array, " K"]]
    count: Int[Array, ""]

    def __len__(self) -> int:
        return int(self.count)

    def to_list(self) -> list[dict[str, Any]]:
        """The real entries as a list of plain dicts (host side)."""
        out = []
        kind = np.asarray(self.kind)
        for i in range(int(self.count)):
            k = SpecialKind(int(kind[i]))
            rec: dict[str, Any] = {
                "kind": k.label,
                "p": float(self.p[i]),
                "x": [float(v) for v in np.asarray(self.x[i])],
                "index": int(self.index[i]),
                "precision": float(self.precision[i]),
                "located": bool(self.located[i]),
            }
            for name in DATA_FIELDS.get(k, tuple(self.data)):
                if name in self.data:
                    val = float(self.data[name][i])
                    if np.isfinite(val):
                        rec[name] = val
            if k == SpecialKind.HOPF and "l1" in rec:
                rec["criticality"] = (
                    "supercritical" if rec["l1"] < 0 else "subcritical"
                )
            out.append(rec)
        return out


class Branch(eqx.Module):
    """A continued branch of solutions, capacity `N`, NaN-padded.

    **Fields:**

    - `x`: `(N, d)` states; `p`: `(N,)` parameter values.
    - `stable`: `(N,)` bools; `n_unstable`: `(N,)` number of eigenvalues (or Floquet
        multipliers) in the unstable half plane (-1 where not computed or padding).
    - `ds`: `(N,)` step size used to reach each point; `newton_iterations`: `(N,)`.
    - `num_points`: how many rows are real.
    - `special`: the `SpecialPoints`.
    - `result`: a `gru_bif.RESULTS` code: why the continuation stopped.
    - `param_name`: the parameter's label (static).
    - `stats`: dict of counters (steps taken, steps rejected, Newton iterations).
    """

    x: Float[Array, "N d"]
    p: Float[Array, " N"]
    stable: Bool[Array, " N"]
    n_unstable: Int[Array, " N"]
    ds: Float[Array, " N"]
    newton_iterations: Int[Array, " N"]
    num_points: Int[Array, ""]
    special: SpecialPoints
    result: RESULTS
    stats: dict[str, Array]
    param_name: str = eqx.field(static=True, default="p")

    # -------------------------------------------------------------- host helpers
    def __len__(self) -> int:
        return int(self.num_points)

    def trimmed(self) -> dict[str, np.ndarray]:
        """NumPy copies of the real rows: `{"p", "x", "stable", "n_unstable"}`."""
        n = int(self.num_points)
        return {
            "p": np.asarray(self.p[:n]),
            "x": np.asarray(self.x[:n]),
            "stable": np.asarray(self.stable[:n]),
            "n_unstable": np.asarray(self.n_unstable[:n]),
        }

    @property
    def message(self) -> str:
        return _result_message(self.result)

    def summary(self) -> str:
        """A human-readable table of the special points."""
        lines = [
            f"branch in {self.param_name}: {int(self.num_points)} points, "
            f"p from {np.nanmin(np.asarray(self.p)):.6g} to "
            f"{np.nanmax(np.asarray(self.p)):.6g}; stopped: {self.stop_reason}",
        ]
        specials = self.special.to_list()
        if not specials:
            lines.append("no special points")
        else:
            lines.append(
                f"{'kind':<14}{'p':>22}  {'x':<34} data"
            )
            for s in specials:
                xs = ", ".join(f"{v:.6g}" for v in s["x"][:4])
                if len(s["x"]) > 4:
                    xs += ", ..."
                extra = "  ".join(
                    f"{k}={v:.10g}" for k, v in s.items() if k not in _BASE_FIELDS
                )
                if "criticality" in s:
                    extra += f"  ({s['criticality']})"
                lines.append(f"{s['kind']:<14}{s['p']:>22.15g}  ({xs:<32}) {extra}")
        return "\n".join(lines)

    @property
    def stop_reason(self) -> str:
        r = self.result
        for name in (
            "successful",
            "reached_parameter_bound",
            "closed_branch",
            "max_steps_reached_continuation",
            "corrector_failed",
            "start_not_converged",
            "nonfinite_vector_field",
        ):
            if bool(r == getattr(RESULTS, name)):
                return name.replace("_continuation", "").replace("_", " ")
        return "other"

    # -------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: `points` (p, x, stable, n_unstable per point),
        `special_points` (kind, p, x and the kind's data) and metadata."""
        t = self.trimmed()
        points = [
            {
                "p": float(t["p"][i]),
                "x": [float(v) for v in t["x"][i]],
                "stable": bool(t["stable"][i]),
                "n_unstable": int(t["n_unstable"][i]),
            }
            for i in range(len(t["p"]))
        ]
        return {
            "format": "gru_bif.branch",
            "version": 1,
            "param": self.param_name,
            "num_points": len(points),
            "stop_reason": self.stop_reason,
            "points": points,
            "special_points": self.special.to_list(),
            "stats": {k: int(np.asarray(v)) for k, v in self.stats.items()},
        }

    def to_json(self, path=None, **kwargs) -> str:
        """Serialise to JSON (floats written exactly, via `repr`). Writes to `path` if
        given and returns the text."""
        text = json.dumps(self.to_dict(), indent=kwargs.pop("indent", 1), **kwargs)
        if path is not None:
            with open(path, "w") as fh:
                fh.write(text)
        return text

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, capacity: int | None = None) -> "Branch":
        """Rebuild a `Branch` from `to_dict()` output (capacity = number of points
        unless given)."""
        if d.get("format") != "gru_bif.branch":
            raise ValueError(
                "Not a gru_bif branch: the dict has no `format: gru_bif.branch` entry."
            )
        pts = d["points"]
        n = len(pts)
        N = max(capacity or n, 1)
        dim = len(pts[0]["x"]) if pts else len(d["special_points"][0]["x"])
        x = np.full((N, dim), np.nan)
        p = np.full((N,), np.nan)
        stable = np.zeros((N,), bool)
        nu = np.full((N,), -1, np.int32)
        for i, pt in enumerate(pts):
            x[i] = pt["x"]
            p[i] = pt["p"]
            stable[i] = pt["stable"]
            nu[i] = pt.get("n_unstable", -1)
        sp = d["special_points"]
        K = max(len(sp), 1)
        special = _special_from_list(sp, K, dim)
        result = _result_from_reason(d.get("stop_reason", "successful"))
        return cls(
            x=jnp.asarray(x),
            p=jnp.asarray(p),
            stable=jnp.asarray(stable),
            n_unstable=jnp.asarray(nu),
            ds=jnp.full((N,), jnp.nan),
            newton_iterations=jnp.full((N,), -1, jnp.int32),
            num_points=jnp.asarray(n, jnp.int32),
            special=special,
            result=result,
            stats={k: jnp.asarray(v) for k, v in d.get("stats", {}).items()},
            param_name=d.get("param", "p"),
        )

    @classmethod
    def from_json(cls, text_or_path: str) -> "Branch":
        """Load from a JSON string or a path to a JSON file."""
        text = text_or_path
        if not text_or_path.lstrip().startswith("{"):
            with open(text_or_path) as fh:
                text = fh.read()
        return cls.from_dict(json.loads(text))

    def save_npz(self, path) -> None:
        """Save every field (full capacity, bitwise exact) to a `.npz` file."""
        arrays = {
            "x": self.x,
            "p": self.p,
            "stable": self.stable,
            "n_unstable": self.n_unstable,
            "ds": self.ds,
            "newton_iterations": self.newton_iterations,
            "num_points": self.num_points,
            "result": self.result._value,
            "sp_kind": self.special.kind,
            "sp_p": self.special.p,
            "sp_x": self.special.x,
            "sp_index": self.special.index,
            "sp_precision": self.special.precision,
            "sp_located": self.special.located,
            "sp_tangent": self.special.tangent,
            "sp_count": self.special.count,
        }
        arrays.update({f"data_{k}": v for k, v in self.special.data.items()})
        arrays.update({f"stats_{k}": v for k, v in self.stats.items()})
        np.savez(
            path,
            param_name=np.asarray(self.param_name),
            **{k: np.asarray(v) for k, v in arrays.items()},
        )

    @classmethod
    def load_npz(cls, path) -> "Branch":
        z = np.load(path)
        special = SpecialPoints(
            kind=jnp.asarray(z["sp_kind"]),
            p=jnp.asarray(z["sp_p"]),
            x=jnp.asarray(z["sp_x"]),
            index=jnp.asarray(z["sp_index"]),
            precision=jnp.asarray(z["sp_precision"]),
            located=jnp.asarray(z["sp_located"]),
            tangent=jnp.asarray(z["sp_tangent"]),
            data={
                k[5:]: jnp.asarray(z[k]) for k in z.files if k.startswith("data_")
            },
            count=jnp.asarray(z["sp_count"]),
        )
        result = RESULTS.successful
        result = eqx.tree_at(lambda r: r._value, result, jnp.asarray(z["result"]))
        return cls(
            x=jnp.asarray(z["x"]),
            p=jnp.asarray(z["p"]),
            stable=jnp.asarray(z["stable"]),
            n_unstable=jnp.asarray(z["n_unstable"]),
            ds=jnp.asarray(z["ds"]),
            newton_iterations=jnp.asarray(z["newton_iterations"]),
            num_points=jnp.asarray(z["num_points"]),
            special=special,
            result=result,
            stats={k[6:]: jnp.asarray(z[k]) for k in z.files if k.startswith("stats_")},
            param_name=str(z["param_name"]),
        )


def _special_from_list(sp, K, dim) -> SpecialPoints:
    kind = np.zeros((K,), np.int32)
    p = np.full((K,), np.nan)
    x = np.full((K, dim), np.nan)
    index = np.full((K,), -1, np.int32)
    precision = np.full((K,), np.nan)
    located = np.zeros((K,), bool)
    tangent = np.full((K, dim + 1), np.nan)
    keys = {"omega", "l1", "a"}
    for s in sp:
        keys |= {k for k in s if k not in _BASE_FIELDS}
    data = {k: np.full((K,), np.nan) for k in sorted(keys)}
    for i, s in enumerate(sp):
        kind[i] = SpecialKind.from_label(s["kind"])
        p[i] = s["p"]
        x[i] = s["x"]
        index[i] = s.get("index", -1)
        precision[i] = s.get("precision", np.nan)
        located[i] = s.get("located", True)
        for k in data:
            if k in s:
                data[k][i] = s[k]
    return SpecialPoints(
        kind=jnp.asarray(kind),
        p=jnp.asarray(p),
        x=jnp.asarray(x),
        index=jnp.asarray(index),
        precision=jnp.asarray(precision),
        located=jnp.asarray(located),
        tangent=jnp.asarray(tangent),
        data={k: jnp.asarray(v) for k, v in data.items()},
        count=jnp.asarray(len(sp), jnp.int32),
    )


def _result_from_reason(reason: str) -> RESULTS:
    name = reason.replace(" ", "_")
    if name == "max_steps_reached":
        name = "max_steps_reached_continuation"
    try:
        return getattr(RESULTS, name)
    except AttributeError:
        return RESULTS.successful


def _result_message(result) -> str:
    try:
        return RESULTS[result]
    except Exception:
        return ""
