"""Results of a continuation: `Branch` and its `SpecialPoints`, with (de)serialisation.

Every array has a fixed capacity and is padded with NaN (integers with -1, kinds with
`SpecialKind.NONE`); `num_points` / `special.count` say how many entries are real. This
makes results pytrees of static shape, so `jit`, `vmap` and `grad` work through them.

This module is long because the result types and their files change together:
every field of `Branch` or `SpecialPoints` is written, read back and validated here
(the JSON/NPZ validators, a third of the module, name the file and the entry in every
message), so a new field cannot be saved without being checked on load.
"""

import enum
import json
import numbers
import os
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._custom_types import Array, Bool, Float, Int
from ._io import atomic_path, read_json, write_atomic
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
    # codim-2 points of fold/Hopf curves (gru_bif.curves); p1: first parameter
    SpecialKind.CUSP: ("p1", "c"),
    SpecialKind.BT: ("p1", "a", "b"),
    SpecialKind.BAUTIN: ("p1", "omega", "l1", "l2"),
    SpecialKind.ZERO_HOPF: ("p1", "omega"),
    SpecialKind.DOUBLE_HOPF: ("p1", "omega", "omega2"),
}
_BASE_FIELDS = (
    "kind", "p", "x", "index", "precision", "located", "criticality", "degenerate"
)

# The normal-form coefficients whose vanishing makes a point of each kind degenerate
# (fold: a; Hopf: l1; cusp: c; Bogdanov–Takens: a and b; Bautin: l2).
NONDEGENERACY = {
    SpecialKind.FOLD: ("a",),
    SpecialKind.HOPF: ("l1",),
    SpecialKind.CUSP: ("c",),
    SpecialKind.BT: ("a", "b"),
    SpecialKind.BAUTIN: ("l2",),
}


def is_degenerate(value, scale=1.0, dtype=np.float64) -> bool:
    """Whether a normal-form coefficient is zero to working precision, so that the
    point it belongs to is degenerate: `|value| ≤ √ε · max(1, scale)`.

    `ε` is the machine epsilon of `dtype`, so `√ε ≈ 1.5e-8` in float64 and `3.5e-4`
    in float32: a coefficient computed from second and third derivatives by autodiff
    and a few linear solves carries a rounding error of order `ε` times the size of
    those derivatives, and `√ε` leaves a wide margin above that while no generic point
    comes so close to zero. `scale` is the size below which the coefficient's rounding
    error is not expected to stay: 1 for the fold, cusp and Bogdanov–Takens coefficients,
    and `1/|ω|` for the Lyapunov coefficients `l1` and `l2`, which are divided by the
    frequency `ω` (see `coefficient_scale`). A non-finite value (not computed) is not
    called degenerate; a caller that needs the coefficient checks `isfinite` itself.
    """
    value = float(value)
    if not np.isfinite(value):
        return False
    eps = float(np.finfo(np.dtype(dtype)).eps)
    return abs(value) <= np.sqrt(eps) * max(1.0, float(scale))


def coefficient_scale(name: str, data) -> float:
    """The `scale` of `is_degenerate` for the coefficient `name` of a special point whose
    data (`omega`, ...) is the mapping `data`: `1/|ω|` for `l1` and `l2`, else 1."""
    if name in ("l1", "l2"):
        omega = abs(float(data.get("omega", np.nan)))
        if np.isfinite(omega) and omega > 0:
            return 1.0 / omega
    return 1.0


def degenerate_coefficients(kind, data, dtype=np.float64) -> list[str]:
    """The nondegeneracy coefficients (`NONDEGENERACY`) of a point of `kind` that vanish
    by `is_degenerate`; `data` maps names to values (missing or NaN: not computed)."""
    out = []
    for name in NONDEGENERACY.get(SpecialKind(int(kind)), ()):
        v = data.get(name)
        if v is not None and is_degenerate(v, coefficient_scale(name, data), dtype):
            out.append(name)
    return out


def hopf_criticality(l1, omega=np.nan, dtype=np.float64) -> str:
    """`"supercritical"` (`l1 < 0`: a stable cycle is born), `"subcritical"` (`l1 > 0`)
    or `"degenerate"` (`l1` zero by `is_degenerate` with scale `1/|ω|`, e.g. the Van der
    Pol oscillator at μ = 0, a Bautin point: the cubic term does not decide)."""
    l1 = float(l1)
    if is_degenerate(l1, coefficient_scale("l1", {"omega": omega}), dtype):
        return "degenerate"
    return "supercritical" if l1 < 0 else "subcritical"


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

    `to_list()` labels each point: a Hopf point's `criticality` is `"supercritical"`,
    `"subcritical"` or `"degenerate"` (`l1` zero to working precision, see
    `is_degenerate`), and every point with a nondegeneracy coefficient (fold `a`, Hopf
    `l1`, cusp `c`, Bogdanov–Takens `a` and `b`, Bautin `l2`) gets `degenerate`: true
    where one of them vanishes.
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
        dtype = np.asarray(self.p).dtype
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
                rec["criticality"] = hopf_criticality(
                    rec["l1"], rec.get("omega", np.nan), dtype
                )
            if any(name in rec for name in NONDEGENERACY.get(k, ())):
                rec["degenerate"] = bool(degenerate_coefficients(k, rec, dtype))
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
                elif s.get("degenerate"):
                    extra += "  (degenerate)"
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
        given (whole or not at all: through a temporary file and a rename) and returns
        the text."""
        text = json.dumps(self.to_dict(), indent=kwargs.pop("indent", 1), **kwargs)
        if path is not None:
            write_atomic(path, text)
        return text

    @classmethod
    def from_dict(
        cls, d: dict[str, Any], *, capacity: int | None = None, source: str | None = None
    ) -> "Branch":
        """Rebuild a `Branch` from `to_dict()` output (capacity = number of points
        unless given).

        **Raises:** `ValueError` naming the entry (`points[3].x`, `special_points[0].kind`,
        ...) and what was expected, for anything `to_dict` would not have written: a
        missing key, a value that is not a number, states of different lengths. `source`
        (a file name, say) starts every message; default `"Branch.from_dict"`.
        """
        src = source or "Branch.from_dict"
        if not isinstance(d, dict):
            raise ValueError(
                f"{src}: expected a JSON object (a dict written by Branch.to_dict); got "
                f"a {type(d).__name__}."
            )
        if d.get("format") != "gru_bif.branch":
            raise ValueError(
                f"{src}: not a gru_bif branch: 'format' is {d.get('format')!r}, expected "
                "'gru_bif.branch' (a dict written by Branch.to_dict or `gru-bif continue "
                "--out`)."
            )
        version = d.get("version", 1)
        if version != 1:
            raise ValueError(
                f"{src}: branch format version {version!r} is not supported (this gru_bif "
                "reads version 1)."
            )
        for key in ("points", "special_points"):
            if key not in d:
                raise ValueError(
                    f"{src}: no '{key}' entry; a branch has 'points' (a list of "
                    "{p, x, stable}) and 'special_points' (a list, possibly empty)."
                )
            if not isinstance(d[key], list):
                raise ValueError(
                    f"{src}: '{key}' is a {type(d[key]).__name__}; expected a list."
                )
        pts, sp = d["points"], d["special_points"]
        n = len(pts)
        if "num_points" in d and _int(src, "num_points", d["num_points"]) != n:
            raise ValueError(
                f"{src}: 'num_points' is {d['num_points']!r} but 'points' has {n} entries."
            )
        if capacity is not None and (
            isinstance(capacity, bool) or not isinstance(capacity, numbers.Integral)
            or capacity < n
        ):
            raise ValueError(
                f"{src}: capacity={capacity!r}; it must be an int of at least the number "
                f"of points ({n})."
            )
        N = max(capacity or n, 1)
        for where, rows in (("points", pts), ("special_points", sp)):
            for i, row in enumerate(rows):
                if not isinstance(row, dict):
                    raise ValueError(
                        f"{src}: {where}[{i}] is a {type(row).__name__}; expected an "
                        "object with 'p' and 'x'."
                    )
                if "x" not in row:
                    raise ValueError(f"{src}: {where}[{i}] has no 'x' (the state).")
        if pts:
            first, first_x = "points[0].x", pts[0]["x"]
        elif sp:
            first, first_x = "special_points[0].x", sp[0]["x"]
        else:
            raise ValueError(
                f"{src}: 'points' and 'special_points' are both empty; the state "
                "dimension is unknown."
            )
        if not _as_list(first_x):
            raise ValueError(
                f"{src}: {first} is {first_x!r}; expected a non-empty list of numbers."
            )
        dim = len(_as_list(first_x))
        x = np.full((N, dim), np.nan)
        p = np.full((N,), np.nan)
        stable = np.zeros((N,), bool)
        nu = np.full((N,), -1, np.int32)
        for i, pt in enumerate(pts):
            where = f"points[{i}]"
            for key in ("p", "stable"):
                if key not in pt:
                    raise ValueError(f"{src}: {where} has no '{key}'.")
            x[i] = _vector(src, f"{where}.x", pt["x"], dim, first)
            p[i] = _number(src, f"{where}.p", pt["p"])
            stable[i] = _boolean(src, f"{where}.stable", pt["stable"])
            nu[i] = _int(src, f"{where}.n_unstable", pt.get("n_unstable", -1), minimum=-1)
        special = _special_from_list(src, sp, max(len(sp), 1), dim, first)
        reason = d.get("stop_reason", "successful")
        if not isinstance(reason, str):
            raise ValueError(f"{src}: 'stop_reason' is {reason!r}; expected a string.")
        stats = d.get("stats", {})
        if not isinstance(stats, dict):
            raise ValueError(f"{src}: 'stats' is {stats!r}; expected an object of counts.")
        stats = {str(k): _int(src, f"stats.{k}", v) for k, v in stats.items()}
        param = d.get("param", "p")
        if not isinstance(param, str):
            raise ValueError(f"{src}: 'param' is {param!r}; expected the parameter's name.")
        return cls(
            x=jnp.asarray(x),
            p=jnp.asarray(p),
            stable=jnp.asarray(stable),
            n_unstable=jnp.asarray(nu),
            ds=jnp.full((N,), jnp.nan),
            newton_iterations=jnp.full((N,), -1, jnp.int32),
            num_points=jnp.asarray(n, jnp.int32),
            special=special,
            result=_result_from_reason(reason),
            stats={k: jnp.asarray(v) for k, v in stats.items()},
            param_name=param,
        )

    @classmethod
    def from_json(cls, text_or_path: "str | os.PathLike") -> "Branch":
        """Load from a JSON string or a path to a JSON file.

        **Raises:** `ValueError` naming the file and the entry for a file that is not
        valid JSON or not a branch (see `from_dict`); `FileNotFoundError` for a missing
        file."""
        if isinstance(text_or_path, str) and text_or_path.lstrip().startswith("{"):
            try:
                d = json.loads(text_or_path)
            except json.JSONDecodeError as e:
                raise ValueError(
                    f"Branch.from_json: not valid JSON ({e.msg} at line {e.lineno}, "
                    f"column {e.colno})."
                ) from e
            return cls.from_dict(d, source="Branch.from_json")
        path = os.fspath(text_or_path)
        return cls.from_dict(read_json(path, "a gru_bif branch"), source=path)

    def save_npz(self, path) -> None:
        """Save every field (full capacity, bitwise exact) to a `.npz` file (`.npz` is
        added to a name without it, as `numpy.savez` does); written whole or not at
        all."""
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
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                param_name=np.asarray(self.param_name),
                **{k: np.asarray(v) for k, v in arrays.items()},
            )

    @classmethod
    def load_npz(cls, path) -> "Branch":
        """Load a `.npz` file written by `save_npz`.

        **Raises:** `ValueError` naming the file, and the array where one is missing or
        of the wrong shape or type, for a file that is not such a `.npz` (truncated, not
        a zip archive, edited); `FileNotFoundError` for a missing file."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such file: {path!r}.")
        try:
            with np.load(path, allow_pickle=False) as z:
                if not hasattr(z, "files"):
                    raise ValueError("a single array (.npy), not an archive of arrays")
                z_ = {k: z[k] for k in z.files}
        except ValueError as e:
            if str(e).startswith(path):
                raise
            raise ValueError(
                f"{path}: not a branch .npz file ({e}); expected a file written by "
                "Branch.save_npz."
            ) from e
        except Exception as e:  # zipfile.BadZipFile, zlib.error, EOFError, OSError...
            raise ValueError(
                f"{path}: not a readable .npz file ({type(e).__name__}: {e}); it may be "
                "truncated. Expected a file written by Branch.save_npz."
            ) from e
        return cls._from_npz_arrays(path, z_)

    @classmethod
    def _from_npz_arrays(cls, src: str, z: dict) -> "Branch":
        missing = [k for k in _NPZ_ARRAYS if k not in z] + (
            [] if "param_name" in z else ["param_name"]
        )
        if missing:
            raise ValueError(
                f"{src}: missing arrays {missing}; expected a file written by "
                "Branch.save_npz."
            )
        x = z["x"]
        if x.ndim != 2 or x.dtype.kind != "f":
            raise ValueError(
                f"{src}: array 'x' has shape {x.shape} and dtype {x.dtype}; expected "
                "floats of shape (N, d)."
            )
        N, d = x.shape
        sp_kind = z["sp_kind"]
        if sp_kind.ndim != 1:
            raise ValueError(
                f"{src}: array 'sp_kind' has shape {sp_kind.shape}; expected (K,)."
            )
        K = sp_kind.shape[0]
        for name, (shape, kinds) in _NPZ_ARRAYS.items():
            a = z[name]
            want = tuple({"N": N, "K": K, "d": d, "d1": d + 1}[s] for s in shape)
            if a.shape != want or a.dtype.kind not in kinds:
                raise ValueError(
                    f"{src}: array {name!r} has shape {a.shape} and dtype {a.dtype}; "
                    f"expected shape {want} and {_KIND_NAMES[kinds]}."
                )
        data, stats = {}, {}
        for k, a in z.items():
            if k.startswith("data_"):
                if a.shape != (K,) or a.dtype.kind != "f":
                    raise ValueError(
                        f"{src}: array {k!r} has shape {a.shape} and dtype {a.dtype}; "
                        f"expected floats of shape ({K},)."
                    )
                data[k[5:]] = jnp.asarray(a)
            elif k.startswith("stats_"):
                if a.shape != () or a.dtype.kind not in "iu":
                    raise ValueError(
                        f"{src}: array {k!r} has shape {a.shape} and dtype {a.dtype}; "
                        "expected an integer count."
                    )
                stats[k[6:]] = jnp.asarray(a)
        n, count = int(z["num_points"]), int(z["sp_count"])
        if not 0 <= n <= N or not 0 <= count <= K:
            raise ValueError(
                f"{src}: num_points = {n} (capacity {N}) or sp_count = {count} (capacity "
                f"{K}) is out of range."
            )
        known = {int(k) for k in SpecialKind}
        bad = [int(k) for k in sp_kind if int(k) not in known]
        if bad:
            raise ValueError(
                f"{src}: array 'sp_kind' holds {bad}, not special-point kinds "
                f"(0..{max(known)})."
            )
        code = int(z["result"])
        if not 0 <= code < len(RESULTS._index_to_message):
            raise ValueError(f"{src}: array 'result' is {code}, not a result code.")
        param_name = z["param_name"]
        if param_name.shape != () or param_name.dtype.kind != "U":
            raise ValueError(
                f"{src}: array 'param_name' has shape {param_name.shape} and dtype "
                f"{param_name.dtype}; expected a string."
            )
        special = SpecialPoints(
            kind=jnp.asarray(sp_kind),
            p=jnp.asarray(z["sp_p"]),
            x=jnp.asarray(z["sp_x"]),
            index=jnp.asarray(z["sp_index"]),
            precision=jnp.asarray(z["sp_precision"]),
            located=jnp.asarray(z["sp_located"]),
            tangent=jnp.asarray(z["sp_tangent"]),
            data=data,
            count=jnp.asarray(z["sp_count"]),
        )
        result = RESULTS.successful
        result = eqx.tree_at(lambda r: r._value, result, jnp.asarray(z["result"]))
        return cls(
            x=jnp.asarray(x),
            p=jnp.asarray(z["p"]),
            stable=jnp.asarray(z["stable"]),
            n_unstable=jnp.asarray(z["n_unstable"]),
            ds=jnp.asarray(z["ds"]),
            newton_iterations=jnp.asarray(z["newton_iterations"]),
            num_points=jnp.asarray(z["num_points"]),
            special=special,
            result=result,
            stats=stats,
            param_name=str(param_name),
        )


# the arrays of `Branch.save_npz`: shape (in terms of N, K, d) and dtype kinds
_NPZ_ARRAYS = {
    "x": (("N", "d"), "f"),
    "p": (("N",), "f"),
    "stable": (("N",), "b"),
    "n_unstable": (("N",), "iu"),
    "ds": (("N",), "f"),
    "newton_iterations": (("N",), "iu"),
    "num_points": ((), "iu"),
    "result": ((), "iu"),
    "sp_kind": (("K",), "iu"),
    "sp_p": (("K",), "f"),
    "sp_x": (("K", "d"), "f"),
    "sp_index": (("K",), "iu"),
    "sp_precision": (("K",), "f"),
    "sp_located": (("K",), "b"),
    "sp_tangent": (("K", "d1"), "f"),
    "sp_count": ((), "iu"),
}
_KIND_NAMES = {"f": "floats", "iu": "integers", "b": "booleans"}


def _scalar_kind(v) -> str:
    """The NumPy dtype kind of a scalar (a Python, NumPy or JAX number), else `""`."""
    if isinstance(v, (str, bytes, list, tuple, dict)) or v is None:
        return ""
    try:
        arr = np.asarray(v)
    except Exception:  # noqa: BLE001 - not a number at all
        return ""
    return arr.dtype.kind if arr.shape == () else ""


def _as_list(v) -> "list | None":
    """A list or tuple as a list, a 1-D NumPy or JAX array as the list of its entries;
    `None` for anything else."""
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, (np.ndarray, jax.Array)) and v.ndim == 1:
        return list(np.asarray(v))
    return None


def _number(src: str, where: str, v) -> float:
    if _scalar_kind(v) not in ("i", "u", "f"):
        raise ValueError(f"{src}: {where} is {v!r}; expected a number.")
    return float(v)


def _int(src: str, where: str, v, minimum=None) -> int:
    if _scalar_kind(v) not in ("i", "u"):
        raise ValueError(f"{src}: {where} is {v!r}; expected an integer.")
    if minimum is not None and v < minimum:
        raise ValueError(f"{src}: {where} is {v!r}; expected an integer ≥ {minimum}.")
    return int(v)


def _boolean(src: str, where: str, v) -> bool:
    if _scalar_kind(v) != "b":
        raise ValueError(f"{src}: {where} is {v!r}; expected true or false.")
    return bool(v)


def _vector(src: str, where: str, v, dim: int, first: str) -> list:
    items = _as_list(v)
    if items is None:
        raise ValueError(f"{src}: {where} is {v!r}; expected a list of {dim} numbers.")
    v = items
    if len(v) != dim:
        raise ValueError(
            f"{src}: {where} has {len(v)} entries; expected {dim} (the length of {first})."
        )
    return [_number(src, f"{where}[{j}]", vj) for j, vj in enumerate(v)]


def _special_from_list(src, sp, K, dim, first) -> SpecialPoints:
    kind = np.zeros((K,), np.int32)
    p = np.full((K,), np.nan)
    x = np.full((K, dim), np.nan)
    index = np.full((K,), -1, np.int32)
    precision = np.full((K,), np.nan)
    located = np.zeros((K,), bool)
    tangent = np.full((K, dim + 1), np.nan)
    keys = {"omega", "l1", "a"}
    for s in sp:
        keys |= {str(k) for k in s if k not in _BASE_FIELDS}
    data = {k: np.full((K,), np.nan) for k in sorted(keys)}
    for i, s in enumerate(sp):
        where = f"special_points[{i}]"
        for key in ("kind", "p"):
            if key not in s:
                raise ValueError(f"{src}: {where} has no '{key}'.")
        try:
            kind[i] = SpecialKind.from_label(s["kind"])
        except ValueError as e:
            raise ValueError(f"{src}: {where}.kind: {e}") from None
        p[i] = _number(src, f"{where}.p", s["p"])
        x[i] = _vector(src, f"{where}.x", s["x"], dim, first)
        index[i] = _int(src, f"{where}.index", s.get("index", -1), minimum=-1)
        precision[i] = _number(src, f"{where}.precision", s.get("precision", np.nan))
        located[i] = _boolean(src, f"{where}.located", s.get("located", True))
        for k in data:
            if k in s:
                data[k][i] = _number(src, f"{where}.{k}", s[k])
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
