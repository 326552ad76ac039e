"""Attractors from samples: where thousands of initial states end up, and with what
probability.

[`gru_bif.attractors.find_attractors`][] integrates every initial state (Diffrax, vmapped,
in chunks), looks at the tail of each trajectory after a transient and recognises

- a **fixed point**: the tail's speed `max|f|` at its last sample is below `fp_tol`; the
  last state is polished by Newton's method on the vector field (`lineax` LU solves) and
  accepted if the residual falls below `newton_tol` without moving far. Fixed points that
  turn out to be unstable (a trajectory started on a saddle's stable manifold, or exactly
  on a repeller) are not attractors: their samples get the label `-1` with the reason
  `"unstable_equilibrium"`;
- a **cycle**: the tail returns twice to its first state through the hyperplane through
  it orthogonal to the flow (a Poincaré section), each time within `return_tol` of the
  orbit's diameter, after times `T` and `≈ 2T`, and the whole tail repeats itself
  after `T` to the same tolerance (a chaotic tail may shadow an unstable cycle for two
  turns, not for the whole tail). The period is estimated from the two
  returns (linear interpolation between samples), the orbit resampled uniformly in phase
  at `n_orbit` points (cubic Hermite interpolation with the vector field as derivative),
  and for each distinct cycle the period is polished by Newton's method on the return
  time `(φ_t(x) − x)·f(x) = 0` along a dense Diffrax solution (to the integration
  tolerance). `gru_bif.periodic.cycle_from_simulation` starts a collocation problem
  from `Attractors.orbit[i, 0]` if you need more;
- **another attractor** (quasi-periodic, chaotic): a tail that is neither, and does not
  shrink (the box spanned by its second half is at least `1 − decay_tol` of the box of
  its first half). It is recognised by a signature of histogram features: the mean,
  standard deviation and 5 % and 95 % quantiles of each coordinate over the tail
  (quantiles rather than the extremes, which fluctuate from one chaotic tail to
  the next). A tail that
  still shrinks has not converged: label `-1`, reason `"not_converged"` (increase
  `t_transient`).

Samples of one kind are grouped greedily, in fixed shapes, each group represented by
its lowest-numbered sample: fixed points closer than `dedup_tol` (max-norm); cycles by
the distance from points of one orbit to the other's sampled orbit, which does not
depend on the phase (within the orbit's sample spacing plus `cycle_tol` of its
diameter, and with periods within `cycle_tol`); other attractors by their features
(within `other_tol` of the attractor's extent). Every sample gets a label (an index
into the attractors, or `-1` with a reason), and each attractor its basin fraction
`f = n/N` with the standard error `√(f(1 − f)/N)` of a fraction estimated from `N`
independent uniform samples.

Results do not depend on `chunk_size`: each sample's analysis is independent of the
others, and the grouping runs once over all samples after the chunks. Samplers draw
sample `i` from `jax.random.fold_in(key, i)`, so a sample does not depend on how many
are drawn.
"""

from collections.abc import Callable
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np

from .._custom_types import Args, Array, Bool, Float, Int
from ..equilibria import Equilibria, classify_eigenvalues
from ..models.gru import GRU, gru_vector_field
from ..problem import Problem

# --------------------------------------------------------------------------- codes

ATTRACTOR_KINDS: tuple[str, ...] = ("fixed point", "cycle", "other")
"""Names of the attractor kinds; `Attractors.kind` holds indices into this tuple (`-1`
for padding)."""

FIXED_POINT, CYCLE, OTHER = range(3)

LABEL_REASONS: tuple[str, ...] = (
    "assigned",
    "integration_failed",
    "escaped",
    "not_converged",
    "unstable_equilibrium",
    "capacity_exceeded",
)
"""Why a sample has the label it has; `Attractors.reason` holds indices into this tuple.

- `"assigned"`: the sample is in the basin of attractor `labels[i] >= 0`;
- `"integration_failed"`: Diffrax did not reach the end (e.g. `max_steps`; raise it, or
    use a stiff solver) or produced NaN/inf;
- `"escaped"`: the trajectory left the ball `max|x| <= escape_radius`;
- `"not_converged"`: after `t_transient` the tail is neither at a fixed point, nor on a
    cycle, nor stationary (it still shrinks): increase `t_transient` (or `t_sample`
    for cycles longer than `t_sample / 2`);
- `"unstable_equilibrium"`: the trajectory settled on an equilibrium with an unstable
    direction (a sample on a basin boundary, such as the stable manifold of a saddle,
    or exactly on a repeller);
- `"capacity_exceeded"`: more distinct attractors were found than `max_attractors`.
"""

(ASSIGNED, INTEGRATION_FAILED, ESCAPED, NOT_CONVERGED, UNSTABLE_EQUILIBRIUM,
 CAPACITY_EXCEEDED) = range(6)


def kind_name(code: int) -> str:
    """The name of an attractor-kind code (`"none"` for `-1`, the padding code)."""
    code = int(code)
    if code == -1:
        return "none"
    if not 0 <= code < len(ATTRACTOR_KINDS):
        raise ValueError(f"Unknown attractor kind {code}; valid: -1, 0, 1, 2.")
    return ATTRACTOR_KINDS[code]


# --------------------------------------------------------------------------- results


class Attractors(eqx.Module):
    """Attractors found by [`gru_bif.attractors.find_attractors`][], with the label of
    every sample. Capacity `K` (`max_attractors`), NaN-padded (kinds and labels `-1`);
    `count` attractors are real, always in the first rows.

    **Fields:**

    - `kind`: `(K,)` indices into `ATTRACTOR_KINDS` (fixed point, cycle, other).
    - `x`: `(K, d)` a representative state: the (Newton-polished) fixed point, a point
        of the cycle, the mean of another attractor's tail.
    - `orbit`: `(K, n_orbit, d)`: a cycle sampled uniformly in phase over one period
        (starting at `x`); another attractor's tail, subsampled; a fixed point repeated.
    - `period`: `(K,)` the period of each cycle (NaN for the others).
    - `eigenvalues`: `(K, d)` complex eigenvalues of the Jacobian at each fixed point
        (NaN for the others); `equilibrium_type`: `(K,)` their type codes, indices into
        `gru_bif.EQUILIBRIUM_TYPES` (`-1` for the others).
    - `features`: `(K, 4d)` the signature: mean, standard deviation, 5 % and 95 %
        quantiles of each coordinate over the representative's tail.
    - `sample_index`: `(K,)` the representative sample.
    - `equilibrium_index`: `(K,)` for a fixed point, the row of the `equilibria`
        passed to `find_attractors` that it matches (`-1`: none, or none passed).
    - `num_samples_in_basin`: `(K,)`; `fractions`: `(K,)` basin fractions `n/N`;
        `standard_errors`: `(K,)` `√(f(1 − f)/N)` (zero for padding).
    - `valid`: `(K,)` which rows hold an attractor; `count`: how many.
    - `truncated`: whether more attractors were found than the capacity holds (those
        samples have the reason `"capacity_exceeded"`).
    - `labels`: `(N,)` the attractor of each sample, `-1` if none; `reason`: `(N,)`
        indices into `LABEL_REASONS`.
    - `final_state`: `(N, d)` each sample's state at the end of its integration.
    """

    kind: Int[Array, " K"]
    x: Float[Array, "K d"]
    orbit: Float[Array, "K M d"]
    period: Float[Array, " K"]
    eigenvalues: Array
    equilibrium_type: Int[Array, " K"]
    features: Float[Array, "K F"]
    sample_index: Int[Array, " K"]
    equilibrium_index: Int[Array, " K"]
    num_samples_in_basin: Int[Array, " K"]
    fractions: Float[Array, " K"]
    standard_errors: Float[Array, " K"]
    valid: Bool[Array, " K"]
    count: Int[Array, ""]
    truncated: Bool[Array, ""]
    labels: Int[Array, " N"]
    reason: Int[Array, " N"]
    final_state: Float[Array, "N d"]

    @property
    def num_samples(self) -> int:
        return int(self.labels.shape[0])

    @property
    def unlabelled_fraction(self) -> Float[Array, ""]:
        """The fraction of samples with label `-1`."""
        return jnp.mean(self.labels < 0)

    @property
    def kind_names(self) -> list[str]:
        """The kind name of each real attractor (host side)."""
        return [kind_name(k) for k in np.asarray(self.kind)[: int(self.count)]]

    def reason_counts(self) -> dict[str, int]:
        """How many samples have each reason, e.g. `{"assigned": 998, "escaped": 2}`."""
        r = np.asarray(self.reason)
        return {name: int(np.sum(r == i)) for i, name in enumerate(LABEL_REASONS)
                if np.any(r == i)}

    def summary(self) -> str:
        """A table: kind, representative state, period or eigenvalues, basin fraction
        ± standard error."""
        n = int(self.count)
        lines = [
            f"Attractors: {n} from {self.num_samples} samples"
            + (" [truncated: raise max_attractors]" if bool(self.truncated) else "")
            + f"; unlabelled {float(self.unlabelled_fraction):.4f} "
            f"{self.reason_counts()}"
        ]
        x = np.asarray(self.x)
        d = x.shape[1]
        show = min(d, 4)
        for i in range(n):
            k = int(self.kind[i])
            coords = ", ".join(f"{v:+.6f}" for v in x[i, :show]) + (", ..." if d > show else "")
            if k == CYCLE:
                extra = f"period {float(self.period[i]):.10g}"
            elif k == FIXED_POINT:
                ev = np.asarray(self.eigenvalues[i])
                extra = "eig " + ", ".join(
                    f"{z.real:+.4g}{z.imag:+.4g}j" if z.imag else f"{z.real:+.4g}"
                    for z in sorted(ev, key=lambda z: -z.real)[:4]
                )
            else:
                extra = ""
            lines.append(
                f"  {i:>2}  {kind_name(k):<11} ({coords})  "
                f"fraction {float(self.fractions[i]):.4f} ± "
                f"{float(self.standard_errors[i]):.4f}  {extra}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        try:
            return self.summary()
        except Exception:  # traced values
            return eqx.tree_pformat(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: every real attractor with all its fields, every sample's
        label, reason and final state (NaN written as `null`). `Attractors.from_dict`
        rebuilds the result exactly (floats are written by `repr`)."""
        n = int(self.count)
        out = []
        for i in range(n):
            ev = np.asarray(self.eigenvalues[i])
            out.append({
                "kind": kind_name(int(self.kind[i])),
                "x": _floats(self.x[i]),
                "orbit": [_floats(row) for row in np.asarray(self.orbit[i])],
                "period": _float(self.period[i]),
                "eigenvalues_re": _floats(ev.real),
                "eigenvalues_im": _floats(ev.imag),
                "equilibrium_type": int(self.equilibrium_type[i]),
                "features": _floats(self.features[i]),
                "sample_index": int(self.sample_index[i]),
                "equilibrium_index": int(self.equilibrium_index[i]),
                "num_samples": int(self.num_samples_in_basin[i]),
                "fraction": float(self.fractions[i]),
                "standard_error": float(self.standard_errors[i]),
            })
        return {
            "format": "gru_bif.attractors",
            "version": 1,
            "capacity": int(self.kind.shape[0]),
            "num_samples": self.num_samples,
            "truncated": bool(self.truncated),
            "attractors": out,
            "labels": [int(v) for v in np.asarray(self.labels)],
            "reason": [LABEL_REASONS[int(v)] for v in np.asarray(self.reason)],
            "final_state": [_floats(row) for row in np.asarray(self.final_state)],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Attractors":
        """Rebuild an `Attractors` from `to_dict()` output.

        **Raises:** `ValueError` for a dict that `to_dict` did not write (wrong
        `format`, missing entries)."""
        if not isinstance(data, dict) or data.get("format") != "gru_bif.attractors":
            raise ValueError(
                "not a gru_bif attractors dict: expected 'format': 'gru_bif.attractors' "
                "(written by Attractors.to_dict)."
            )
        try:
            recs = data["attractors"]
            K = int(data["capacity"])
            labels = np.asarray(data["labels"], np.int32)
            reason = np.asarray([LABEL_REASONS.index(r) for r in data["reason"]], np.int32)
            final = _array(data["final_state"])
        except (KeyError, ValueError) as e:
            raise ValueError(f"Attractors.from_dict: a bad or missing entry ({e}).") from e
        n = len(recs)
        d = final.shape[1]
        M = len(recs[0]["orbit"]) if recs else 1
        F = len(recs[0]["features"]) if recs else 4 * d
        dtype = jnp.result_type(float)
        kind = np.full((K,), -1, np.int32)
        x = np.full((K, d), np.nan)
        orbit = np.full((K, M, d), np.nan)
        period = np.full((K,), np.nan)
        eig = np.full((K, d), np.nan, complex)
        eq_type = np.full((K,), -1, np.int32)
        features = np.full((K, F), np.nan)
        sample_index = np.full((K,), -1, np.int32)
        eq_index = np.full((K,), -1, np.int32)
        n_in = np.zeros((K,), np.int32)
        frac = np.zeros((K,))
        se = np.zeros((K,))
        for i, r in enumerate(recs):
            kind[i] = ATTRACTOR_KINDS.index(r["kind"])
            x[i] = _array(r["x"])
            orbit[i] = _array(r["orbit"])
            period[i] = np.nan if r["period"] is None else r["period"]
            eig[i] = _array(r["eigenvalues_re"]) + 1j * _array(r["eigenvalues_im"])
            eq_type[i] = r["equilibrium_type"]
            features[i] = _array(r["features"])
            sample_index[i] = r["sample_index"]
            eq_index[i] = r["equilibrium_index"]
            n_in[i] = r["num_samples"]
            frac[i] = r["fraction"]
            se[i] = r["standard_error"]
        return cls(
            kind=jnp.asarray(kind),
            x=jnp.asarray(x, dtype),
            orbit=jnp.asarray(orbit, dtype),
            period=jnp.asarray(period, dtype),
            eigenvalues=jnp.asarray(eig),
            equilibrium_type=jnp.asarray(eq_type),
            features=jnp.asarray(features, dtype),
            sample_index=jnp.asarray(sample_index),
            equilibrium_index=jnp.asarray(eq_index),
            num_samples_in_basin=jnp.asarray(n_in),
            fractions=jnp.asarray(frac, dtype),
            standard_errors=jnp.asarray(se, dtype),
            valid=jnp.asarray(np.arange(K) < n),
            count=jnp.asarray(n, jnp.int32),
            truncated=jnp.asarray(bool(data.get("truncated", False))),
            labels=jnp.asarray(labels),
            reason=jnp.asarray(reason),
            final_state=jnp.asarray(final, dtype),
        )


def _float(v) -> "float | None":
    v = float(v)
    return v if np.isfinite(v) else None


def _floats(a) -> list:
    return [_float(v) for v in np.asarray(a).reshape(-1)]


def _array(rows) -> np.ndarray:
    return np.asarray(
        [[np.nan if v is None else v for v in r] for r in rows]
        if rows and isinstance(rows[0], list)
        else [np.nan if v is None else v for v in rows],
        float,
    )


# --------------------------------------------------------------------------- helpers


def sample_box(key: Array, lo: Any, hi: Any, n: int) -> Float[Array, "n d"]:
    """`n` states drawn uniformly from the box `[lo, hi]`, sample `i` from
    `jax.random.fold_in(key, i)` (so the first `m` of `n` samples are the `m` samples
    drawn with `n = m`: results never depend on how a batch is split).

    **Arguments:** `key`: a `jax.random` key; `lo`, `hi`: arrays of shape `(d,)` (or
    scalars with a 1-D state); `n`: how many.

    **Returns:** an array of shape `(n, d)` in the default float dtype.
    """
    lo = np.atleast_1d(np.asarray(lo, float))
    hi = np.atleast_1d(np.asarray(hi, float))
    if lo.ndim != 1 or lo.shape != hi.shape:
        raise ValueError(
            f"`lo` and `hi` must be arrays of one shape (d,); got {lo.shape}, {hi.shape}."
        )
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo < hi)):
        raise ValueError(f"the box needs finite bounds with lo < hi; got lo={lo}, hi={hi}.")
    n = int(n)
    if n < 1:
        raise ValueError(f"n={n}; draw at least one sample.")
    dtype = jnp.result_type(float)
    lo_ = jnp.asarray(lo, dtype)
    hi_ = jnp.asarray(hi, dtype)

    def one(i):
        u = jax.random.uniform(jax.random.fold_in(key, i), lo_.shape, dtype)
        return lo_ + u * (hi_ - lo_)

    return jax.vmap(one)(jnp.arange(n))


def basin_fractions(
    labels: Any, num_attractors: "int | None" = None
) -> tuple[np.ndarray, np.ndarray]:
    """Basin fractions and their standard errors from per-sample labels.

    **Arguments:** `labels`: `(N,)` ints, `-1` for samples in no basin;
    `num_attractors`: the number of attractors `K` (default `max(labels) + 1`).

    **Returns:** `(fractions, standard_errors)`, NumPy arrays of shape `(K,)`:
    `f_k = #{labels == k}/N` and `√(f_k(1 − f_k)/N)` (the standard error of a fraction
    estimated from `N` independent samples).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"`labels` must be a non-empty 1-D array; got shape {labels.shape}.")
    k = int(labels.max()) + 1 if num_attractors is None else int(num_attractors)
    n = labels.size
    counts = np.array([np.sum(labels == i) for i in range(max(k, 0))], float)
    f = counts / n
    return f, np.sqrt(f * (1 - f) / n)


def _resolve(field: Any, args: Args) -> tuple[Callable, Args]:
    """`(f, args)` from a `Problem`, a `GRU` or a vector field `f(t, x, args)`."""
    if isinstance(field, Problem):
        if args is not None:
            raise ValueError(
                "`args` was given together with a gru_bif.Problem, which carries its own "
                "args; pass `args=None` (change them with `problem.with_args`)."
            )
        return field.f, field.args
    if isinstance(field, GRU):
        dtype = jnp.result_type(field.Uh)
        if args is None:
            u = jnp.zeros((field.input_size,), dtype)
        else:
            u = jnp.asarray(args, dtype)
            if u.shape != (field.input_size,):
                raise ValueError(
                    f"The GRU's constant input has shape {u.shape}; this GRU has input "
                    f"size {field.input_size}: pass an array of shape "
                    f"({field.input_size},) (or None)."
                )
        return gru_vector_field, {"gru": field, "u": u}
    if not callable(field):
        raise ValueError(
            "Pass a vector field f(t, x, args), a gru_bif.GRU or a gru_bif.Problem; got "
            f"{type(field).__name__}."
        )
    return field, args


def _check_states(f, args, states) -> Array:
    if states is None:
        raise ValueError(
            "Give the initial states, shape (N, d): e.g. "
            "gru_bif.attractors.sample_box(jax.random.PRNGKey(0), lo, hi, 1000)."
        )
    states = jnp.asarray(states)
    if not jnp.issubdtype(states.dtype, jnp.floating):
        states = states.astype(jnp.result_type(float))
    if states.ndim != 2 or states.shape[0] == 0 or states.shape[1] == 0:
        raise ValueError(
            f"`states` must have shape (N, d) with N, d >= 1; got shape {states.shape}."
        )
    bad = ~np.all(np.isfinite(np.asarray(states)), axis=1)
    if bad.any():
        rows = np.nonzero(bad)[0].tolist()
        raise ValueError(
            f"`states` has NaN or inf entries in {len(rows)} rows (e.g. {rows[:5]}); "
            "pass finite initial states."
        )
    d = states.shape[1]
    try:
        out = jax.eval_shape(lambda y: f(0.0, y, args),
                             jax.ShapeDtypeStruct((d,), states.dtype))
    except Exception as e:
        raise ValueError(
            f"The vector field cannot be evaluated at a state of shape ({d},): "
            f"{str(e).rstrip('.')}. Check that `states` have the system's dimension."
        ) from e
    if getattr(out, "shape", None) != (d,):
        raise ValueError(
            f"The vector field returns shape {getattr(out, 'shape', None)} for a state "
            f"of shape ({d},): `states` must have the system's dimension."
        )
    return states


# --------------------------------------------------------------------------- per sample


class _Settings(eqx.Module):
    t_transient: float = eqx.field(static=True)
    t_sample: float = eqx.field(static=True)
    n_sample: int = eqx.field(static=True)
    n_orbit: int = eqx.field(static=True)
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    escape_radius: float = eqx.field(static=True)
    fp_tol: float = eqx.field(static=True)
    newton_tol: float = eqx.field(static=True)
    newton_steps: int = eqx.field(static=True)
    return_tol: float = eqx.field(static=True)
    decay_tol: float = eqx.field(static=True)
    dedup_tol: float = eqx.field(static=True)
    cycle_tol: float = eqx.field(static=True)
    other_tol: float = eqx.field(static=True)
    hyperbolic_tol: float = eqx.field(static=True)
    capacity: int = eqx.field(static=True)
    solver: Any = eqx.field(static=True)


class _Sample(eqx.Module):
    status: Array  # kind code, or -1
    reason: Array
    point: Array  # (d,)
    orbit: Array  # (M, d)
    period: Array
    features: Array  # (4d,)
    final: Array  # (d,)


def _hermite(ts, xs, fs, t):
    """Cubic Hermite interpolation of samples `xs` (derivatives `fs`) at times `t`."""
    i = jnp.clip(jnp.searchsorted(ts, t, side="right") - 1, 0, ts.shape[0] - 2)
    h = (ts[i + 1] - ts[i])[:, None]
    s = ((t - ts[i]) / (ts[i + 1] - ts[i]))[:, None]
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    return h00 * xs[i] + h10 * h * fs[i] + h01 * xs[i + 1] + h11 * h * fs[i + 1]


def _newton(F, y, steps):
    """Newton steps on `F`, each kept only if it does not raise the residual."""

    def body(_, y):
        fy = F(y)
        jac = jax.jacfwd(F)(y)
        sol = lx.linear_solve(lx.MatrixLinearOperator(jac), fy, lx.LU(), throw=False)
        y_new = y - sol.value
        ok = jnp.all(jnp.isfinite(y_new)) & (
            jnp.max(jnp.abs(F(y_new))) <= jnp.max(jnp.abs(fy))
        )
        return jnp.where(ok, y_new, y)

    return jax.lax.fori_loop(0, steps, body, y)


class _Frozen(eqx.Module):
    """The vector field, set to zero outside the ball `max|x| <= radius`: a trajectory
    that escapes stops there (cheaper to compile than a Diffrax event)."""

    f: Callable
    radius: float = eqx.field(static=True)

    def __call__(self, t, y, args):
        v = self.f(t, y, args)
        if not np.isfinite(self.radius):
            return v
        return jnp.where(jnp.max(jnp.abs(y)) > self.radius, jnp.zeros_like(v), v)


def _analyse_one(f, args, x0, s: _Settings) -> _Sample:
    dtype = x0.dtype
    d = x0.shape[0]
    ts = s.t_transient + jnp.linspace(0.0, s.t_sample, s.n_sample, dtype=dtype)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(_Frozen(f, s.escape_radius)),
        s.solver,
        t0=jnp.zeros((), dtype),
        t1=ts[-1],
        dt0=None,
        y0=x0,
        args=args,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=s.rtol, atol=s.atol),
        max_steps=s.max_steps,
        throw=False,
    )
    X = sol.ys
    ok = (sol.result == diffrax.RESULTS.successful) & jnp.all(jnp.isfinite(X))
    escaped = ok & (jnp.max(jnp.abs(X[-1])) > s.escape_radius)
    ok = ok & ~escaped
    X = jnp.where(ok, X, x0[None, :])

    def F(y):
        return f(0.0, y, args)

    FX = jax.vmap(F)(X)
    t_rel = ts - ts[0]
    x_end = X[-1]
    scale = 1.0 + jnp.max(jnp.abs(x_end))
    speed_end = jnp.max(jnp.abs(FX[-1]))

    # ---- fixed point: slow at the end, Newton converges nearby
    x_star = _newton(F, x_end, s.newton_steps)
    res_star = jnp.max(jnp.abs(F(x_star)))
    moved = jnp.max(jnp.abs(x_star - x_end))
    is_fp = (
        ok
        & (speed_end <= s.fp_tol)
        & (res_star <= s.newton_tol)
        & (moved <= 1e-3 * scale)
    )

    # ---- cycle: two returns to the first tail state through its Poincaré section
    x_ref = X[0]
    f_ref = FX[0]
    g = (X - x_ref) @ f_ref
    dist = jnp.sqrt(jnp.sum((X - x_ref) ** 2, axis=1))
    diam = jnp.max(dist)
    k = jnp.arange(s.n_sample - 1)
    cross = (g[:-1] < 0) & (g[1:] >= 0) & (dist[:-1] < 0.25 * diam)
    i1 = jnp.argmax(cross)
    has1 = cross[i1]
    cross2 = cross & (k > i1)
    i2 = jnp.argmax(cross2)
    has2 = cross2[i2]

    def ret(i):
        den = g[i + 1] - g[i]
        frac = jnp.where(den != 0, -g[i] / jnp.where(den != 0, den, 1.0), 0.0)
        t = t_rel[i] + frac * (t_rel[i + 1] - t_rel[i])
        xr = X[i] + frac * (X[i + 1] - X[i])
        return t, jnp.sqrt(jnp.sum((xr - x_ref) ** 2))

    t1, miss1 = ret(i1)
    t2, miss2 = ret(i2)
    # the whole tail repeats after the period (a chaotic tail can shadow an unstable
    # cycle for two turns, never for the whole tail)
    T_est = jnp.where(has2, t2 / 2, t_rel[-1])
    shifted = _hermite(t_rel, X, FX, jnp.minimum(t_rel + T_est, t_rel[-1]))
    inside = t_rel + T_est <= t_rel[-1]
    repeat = jnp.max(jnp.where(inside, jnp.sqrt(jnp.sum((shifted - X) ** 2, axis=1)), 0.0))
    is_cycle = (
        ok
        & ~is_fp
        & has1
        & has2
        & (miss1 <= s.return_tol * diam)
        & (miss2 <= s.return_tol * diam)
        & (jnp.abs(t2 - 2 * t1) <= 0.05 * t1)
        & (repeat <= s.return_tol * diam)
        & (diam > 0)
    )
    period = jnp.where(is_cycle, t2 / 2, jnp.nan)
    T_safe = jnp.where(is_cycle, t2 / 2, t_rel[-1])
    phases = jnp.arange(s.n_orbit, dtype=dtype) * (T_safe / s.n_orbit)
    cyc_orbit = _hermite(t_rel, X, FX, phases)

    # ---- another attractor: stationary (not shrinking) tail
    half = s.n_sample // 2
    ext1 = jnp.max(jnp.max(X[:half], 0) - jnp.min(X[:half], 0))
    ext2 = jnp.max(jnp.max(X[half:], 0) - jnp.min(X[half:], 0))
    stationary = ext2 >= (1.0 - s.decay_tol) * ext1
    is_other = ok & ~is_fp & ~is_cycle & stationary & (speed_end > s.fp_tol)
    features = jnp.concatenate(
        [jnp.mean(X, 0), jnp.std(X, 0), jnp.quantile(X, 0.05, axis=0),
         jnp.quantile(X, 0.95, axis=0)]
    )
    sub = jnp.linspace(0, s.n_sample - 1, s.n_orbit).astype(jnp.int32)
    status = jnp.where(
        is_fp, FIXED_POINT, jnp.where(is_cycle, CYCLE, jnp.where(is_other, OTHER, -1))
    )
    reason = jnp.where(
        status >= 0,
        ASSIGNED,
        jnp.where(escaped, ESCAPED, jnp.where(ok, NOT_CONVERGED, INTEGRATION_FAILED)),
    )
    point = jnp.where(is_fp, x_star, jnp.where(is_cycle, x_ref, features[:d]))
    orbit = jnp.where(
        is_fp,
        jnp.broadcast_to(x_star, (s.n_orbit, d)),
        jnp.where(is_cycle, cyc_orbit, X[sub]),
    )
    final = jnp.where(ok, x_end, jnp.nan)
    return _Sample(
        status=status.astype(jnp.int32),
        reason=reason.astype(jnp.int32),
        point=point,
        orbit=orbit,
        period=period,
        features=features,
        final=final,
    )


@eqx.filter_jit
def _analyse_chunk(f, args, X0, s: _Settings) -> _Sample:
    return jax.vmap(lambda x0: _analyse_one(f, args, x0, s))(X0)


# --------------------------------------------------------------------------- grouping


def _orbit_distance(query, ref):
    """max over the points of `query` (m, d) of the distance to the nearest point of
    `ref` (M, d)."""
    dd = jnp.sqrt(jnp.sum((query[:, None, :] - ref[None, :, :]) ** 2, axis=-1))
    return jnp.max(jnp.min(dd, axis=1))


def orbit_distance(a: Float[Array, "M d"], b: Float[Array, "M d"]) -> Float[Array, ""]:
    """The symmetric, phase-independent distance between two sampled orbits: the larger
    of the two directed distances `max_{x∈a} min_{y∈b} |x − y|` (a Hausdorff distance
    between the point sets)."""
    return jnp.maximum(_orbit_distance(a, b), _orbit_distance(b, a))


def _spacing(orbit):
    return jnp.max(jnp.sqrt(jnp.sum((jnp.roll(orbit, -1, axis=0) - orbit) ** 2, axis=-1)))


@eqx.filter_jit
def _group(samples: _Sample, s: _Settings):
    """Greedy grouping over all samples; returns the representatives' samples `(K, ...)`
    and the labels."""
    K = s.capacity
    status = samples.status
    N = status.shape[0]
    n_query = min(8, s.n_orbit)
    qidx = jnp.linspace(0, s.n_orbit - 1, n_query).astype(jnp.int32)
    queries = samples.orbit[:, qidx, :]

    def close_to(j):
        kj = status[j]
        pj = samples.point[j]
        fp_close = jnp.max(jnp.abs(samples.point - pj), axis=1) <= s.dedup_tol * (
            1.0 + jnp.max(jnp.abs(pj))
        )
        oj = samples.orbit[j]
        diam = jnp.max(jnp.max(oj, 0) - jnp.min(oj, 0))
        thr = _spacing(oj) + s.cycle_tol * diam
        dist = jax.vmap(lambda q: _orbit_distance(q, oj))(queries)
        Tj = samples.period[j]
        cyc_close = (dist <= thr) & (jnp.abs(samples.period - Tj) <= s.cycle_tol * Tj)
        fj = samples.features[j]
        d = pj.shape[0]
        extent = jnp.max(fj[3 * d:] - fj[2 * d: 3 * d])
        oth_close = jnp.max(jnp.abs(samples.features - fj), axis=1) <= s.other_tol * (
            extent + 1e-12
        )
        close = jnp.where(kj == FIXED_POINT, fp_close,
                          jnp.where(kj == CYCLE, cyc_close, oth_close))
        return (status == kj) & close

    def cond(c):
        i, remaining, _, _ = c
        return (i < K) & jnp.any(remaining)

    def body(c):
        i, remaining, reps, labels = c
        j = jnp.argmax(remaining)  # the lowest-numbered remaining sample
        members = remaining & close_to(j)
        members = members.at[j].set(True)
        labels = jnp.where(members, i, labels)
        return i + 1, remaining & ~members, reps.at[i].set(j.astype(jnp.int32)), labels

    init = (
        jnp.asarray(0, jnp.int32),
        status >= 0,
        jnp.full((K,), -1, jnp.int32),
        jnp.full((N,), -1, jnp.int32),
    )
    _, remaining, reps, labels = jax.lax.while_loop(cond, body, init)
    rep_samples = jax.tree.map(lambda a: a[jnp.maximum(reps, 0)], samples)
    return rep_samples, reps, remaining, labels


# --------------------------------------------------------------------------- representatives


def _polish_cycle(f, args, x, T, s: _Settings):
    """Newton on the return time `(φ_T(x) − x)·f(x) = 0` from the estimate `T` (each
    iteration one integration over `[0, T]`, saved at `n_orbit + 1` equally spaced
    times), then the orbit over the polished period. Returns `(T, orbit)`."""
    dtype = x.dtype
    fx = f(0.0, x, args)
    unit = jnp.linspace(0.0, 1.0, s.n_orbit + 1, dtype=dtype)

    def flow(T):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(f),
            s.solver,
            t0=jnp.zeros((), dtype),
            t1=T,
            dt0=None,
            y0=x,
            args=args,
            saveat=diffrax.SaveAt(ts=unit * T),
            stepsize_controller=diffrax.PIDController(rtol=s.rtol, atol=s.atol),
            max_steps=s.max_steps,
            throw=False,
        )
        return sol.ys, sol.result == diffrax.RESULTS.successful

    def body(_, c):
        T, _, _ = c
        ys, ok = flow(T)
        xT = ys[-1]
        g = jnp.dot(xT - x, fx)
        dg = jnp.dot(f(0.0, xT, args), fx)
        T_new = jnp.clip(T - g / jnp.where(dg != 0, dg, 1.0), 0.5 * T, 1.5 * T)
        T_new = jnp.where(ok & jnp.isfinite(T_new), T_new, T)
        return T_new, ys, ok

    ys0 = jnp.zeros((s.n_orbit + 1, x.shape[0]), dtype)
    T1, _, _ = jax.lax.fori_loop(0, 4, body, (T, ys0, jnp.asarray(True)))
    ys, ok = flow(T1)
    good = ok & jnp.isfinite(T1) & jnp.all(jnp.isfinite(ys))
    return jnp.where(good, T1, T), ys[:-1], good


@eqx.filter_jit
def _representatives(f, args, rep: _Sample, reps, s: _Settings, polish: bool):
    """Eigenvalues of the fixed points, polished periods and orbits of the cycles
    (`polish`, static: whether there are cycles; without, nothing is integrated)."""
    valid = reps >= 0
    kind = jnp.where(valid, rep.status, -1)
    x = jnp.where(valid[:, None], rep.point, jnp.nan)
    orbit = jnp.where(valid[:, None, None], rep.orbit, jnp.nan)
    features = jnp.where(valid[:, None], rep.features, jnp.nan)

    is_fp = valid & (kind == FIXED_POINT)
    safe_x = jnp.where(is_fp[:, None], x, 0.0)
    jac = jax.vmap(jax.jacfwd(lambda y: f(0.0, y, args)))(safe_x)
    jac = jnp.where(is_fp[:, None, None] & jnp.isfinite(jac), jac, 0.0)
    eig = jnp.linalg.eigvals(jac)
    eig = jnp.where(is_fp[:, None], eig, jnp.nan)
    eq_type = jnp.where(
        is_fp, classify_eigenvalues(eig, hyperbolic_tol=s.hyperbolic_tol), -1
    )
    unstable = is_fp & jnp.any(jnp.real(eig) > s.hyperbolic_tol, axis=-1)

    is_cyc = valid & (kind == CYCLE)
    if not polish:
        period = jnp.where(is_cyc, rep.period, jnp.nan)
        return kind, x, orbit, period, eig, eq_type, unstable, features
    x_c = jnp.where(is_cyc[:, None], rep.point, 1.0)
    T_c = jnp.where(is_cyc, rep.period, 1.0)
    T_pol, orb_pol, good = jax.vmap(lambda xx, TT: _polish_cycle(f, args, xx, TT, s))(
        x_c, T_c
    )
    period = jnp.where(is_cyc, T_pol, jnp.nan)
    orbit = jnp.where((is_cyc & good)[:, None, None], orb_pol, orbit)
    return kind, x, orbit, period, eig, eq_type, unstable, features


@eqx.filter_jit
def _assemble(parts, reps, remaining, labels, reason, final, n_true):
    kind, x, orbit, period, eig, eq_type, unstable, features = parts
    K = reps.shape[0]
    valid = reps >= 0
    keep = valid & ~unstable
    order = jnp.argsort(~keep, stable=True)
    new_of_old = jnp.zeros((K,), jnp.int32).at[order].set(jnp.arange(K, dtype=jnp.int32))
    lab_ok = labels >= 0
    lab_safe = jnp.maximum(labels, 0)
    kept = lab_ok & keep[lab_safe]
    new_labels = jnp.where(kept, new_of_old[lab_safe], -1)
    reason = jnp.where(lab_ok & unstable[lab_safe], UNSTABLE_EQUILIBRIUM, reason)
    reason = jnp.where(remaining, CAPACITY_EXCEEDED, reason)
    active = jnp.arange(labels.shape[0]) < n_true
    new_labels = jnp.where(active, new_labels, -1)

    keep_o = keep[order]

    def take(a, fill):
        a = a[order]
        return jnp.where(keep_o.reshape(keep_o.shape + (1,) * (a.ndim - 1)), a, fill)

    n_in = jnp.sum(new_labels[None, :] == jnp.arange(K)[:, None], axis=1)
    frac = n_in / n_true
    se = jnp.sqrt(frac * (1 - frac) / n_true)
    return Attractors(
        kind=take(kind, -1),
        x=take(x, jnp.nan),
        orbit=take(orbit, jnp.nan),
        period=take(period, jnp.nan),
        eigenvalues=take(eig, jnp.nan),
        equilibrium_type=take(eq_type, -1),
        features=take(features, jnp.nan),
        sample_index=take(reps, -1),
        equilibrium_index=jnp.full((K,), -1, jnp.int32),
        num_samples_in_basin=n_in.astype(jnp.int32),
        fractions=frac,
        standard_errors=se,
        valid=keep_o,
        count=jnp.sum(keep).astype(jnp.int32),
        truncated=jnp.any(remaining & active),
        labels=new_labels.astype(jnp.int32),
        reason=reason.astype(jnp.int32),
        final_state=final,
    )


# --------------------------------------------------------------------------- front door


def _default_tols(dtype) -> dict:
    if jnp.finfo(dtype).bits >= 64:
        return dict(rtol=1e-8, atol=1e-10, fp_tol=1e-6, newton_tol=1e-9, dedup_tol=1e-6)
    return dict(rtol=1e-5, atol=1e-7, fp_tol=1e-3, newton_tol=1e-4, dedup_tol=1e-3)


def find_attractors(
    field: "Callable | GRU | Problem",
    args: Args = None,
    states: Any = None,
    *,
    t_transient: float = 200.0,
    t_sample: float = 100.0,
    n_sample: int = 1001,
    n_orbit: int = 64,
    max_attractors: int = 16,
    chunk_size: "int | None" = 4096,
    solver: "diffrax.AbstractSolver | None" = None,
    rtol: "float | None" = None,
    atol: "float | None" = None,
    max_steps: int = 2**14,
    escape_radius: float = 1e6,
    fp_tol: "float | None" = None,
    newton_tol: "float | None" = None,
    newton_steps: int = 8,
    return_tol: float = 1e-2,
    decay_tol: float = 0.1,
    dedup_tol: "float | None" = None,
    cycle_tol: float = 1e-2,
    other_tol: float = 0.1,
    hyperbolic_tol: "float | None" = None,
    equilibria: "Equilibria | None" = None,
) -> Attractors:
    """Find the attractors reached from many initial states, label every state by its
    attractor, and estimate the basin fractions (see the module docstring for how
    fixed points, cycles and other attractors are recognised and told apart).

    **Arguments:**

    - `field`: a vector field `f(t, x, args)`, a `gru_bif.GRU` (then `args` is its
        constant input, or `None`) or a `gru_bif.Problem` (then `args` must be `None`).
    - `args`: the vector field's args.
    - `states`: the initial states, shape `(N, d)` (e.g. from
        [`gru_bif.attractors.sample_box`][]). Basin fractions are fractions of these.
    - `t_transient`: time integrated before the tail is examined (default 200).
    - `t_sample`, `n_sample`: the tail: `n_sample` states over `t_sample` after the
        transient (defaults 100 and 1001). A cycle needs two returns, so periods up to
        `t_sample / 2` are recognised; the sample spacing `t_sample/(n_sample − 1)`
        bounds the accuracy of the period estimate before polishing.
    - `n_orbit`: points per stored orbit (default 64).
    - `max_attractors`: capacity `K` of the result (default 16).
    - `chunk_size`: about how many initial states are integrated per compiled call
        (default 4096; `None`: all at once): the states are split into
        `ceil(N / chunk_size)` equal chunks, each padded to a multiple of 128 (or to a
        power of two, for fewer than 128). Results do not depend on it.
    - `solver`: a Diffrax solver (default `diffrax.Tsit5()`); `rtol`, `atol`: its step
        size controller's tolerances (default 1e-8, 1e-10 in float64; 1e-5, 1e-7 in
        float32); `max_steps`: per trajectory.
    - `escape_radius`: a trajectory with `max|x|` above this stops and is labelled
        `-1` (reason `"escaped"`); `float("inf")` switches the test off.
    - `fp_tol`: the largest speed `max|f|` at the end of the tail of a trajectory at a
        fixed point (default 1e-6; 1e-3 in float32).
    - `newton_tol`, `newton_steps`: the polished fixed point must have `max|f| <=
        newton_tol` (default 1e-9; 1e-4 in float32) after `newton_steps` Newton steps.
    - `return_tol`: the returns of a cycle must come within this fraction of its
        diameter of the first tail state (default 1e-2).
    - `decay_tol`: a tail whose second half spans less than `1 − decay_tol` of its first
        half is still converging (default 0.1).
    - `dedup_tol`: fixed points closer than `dedup_tol (1 + max|x|)` (max-norm) are one
        (default 1e-6; 1e-3 in float32).
    - `cycle_tol`: cycles are one if every point of one lies within the other's sample
        spacing plus `cycle_tol` times its extent, and their periods agree to
        `cycle_tol` relatively (default 1e-2).
    - `other_tol`: other attractors are one if their features agree to `other_tol`
        times the attractor's extent (its largest 5–95 % quantile range; default
        0.1: a chaotic tail of finite length has a fluctuating mean).
    - `hyperbolic_tol`: eigenvalues with `|Re λ|` below this count as zero (default
        `eps^(1/3)`, see `gru_bif.classify`).
    - `equilibria`: a `gru_bif.Equilibria` of the same system (from
        `gru_bif.find_equilibria`): each fixed point is matched to the nearest of them
        within `max(dedup_tol, 1e-6)·(1 + max|x|)` (`Attractors.equilibrium_index`).

    **Returns:**

    An [`gru_bif.attractors.Attractors`][] with `labels` of shape `(N,)`.

    **Raises:**

    `ValueError` for states of the wrong shape or with NaN/inf, a vector field that does
    not match the states' dimension, or bad settings.

    This front door runs on the host (it splits the states into chunks, and compiles the
    polishing of cycles only where cycles were found); call it with concrete values,
    not under `jax.jit`/`jax.vmap`. Every compiled stage (integration and recognition of
    a chunk, grouping, representatives) has fixed shapes: the same shapes, field and
    settings reuse the compiled programs, e.g. over a parameter grid.

    !!! example

        ```python
        from gru_bif.attractors import find_attractors, sample_box
        states = sample_box(jax.random.PRNGKey(0), [-1, -1], [1, 1], 10_000)
        att = find_attractors(gru_bif.GRU(3.0 * jnp.eye(2)), None, states)
        att.count, att.fractions[:4], att.labels
        ```
    """
    f, args = _resolve(field, args)
    states = _check_states(f, args, states)
    dtype = states.dtype
    tols = _default_tols(dtype)
    for name, v in (("t_transient", t_transient), ("t_sample", t_sample)):
        if not (np.isfinite(v) and v > 0) and not (name == "t_transient" and v == 0):
            raise ValueError(f"{name}={v}; it must be a positive finite time.")
    if int(n_sample) < 8:
        raise ValueError(f"n_sample={n_sample}; use at least 8 (default 1001).")
    if int(n_orbit) < 4:
        raise ValueError(f"n_orbit={n_orbit}; use at least 4 (default 64).")
    if int(max_attractors) < 1:
        raise ValueError(f"max_attractors={max_attractors}; use at least 1.")
    if chunk_size is not None and int(chunk_size) < 1:
        raise ValueError(f"chunk_size={chunk_size}; use a positive int or None.")
    if not escape_radius > 0:
        raise ValueError(f"escape_radius={escape_radius}; it must be positive (or inf).")
    for name, v in (("return_tol", return_tol), ("cycle_tol", cycle_tol),
                    ("other_tol", other_tol)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name}={v}; it must be positive and finite.")
    if not 0 <= decay_tol < 1:
        raise ValueError(f"decay_tol={decay_tol}; it must lie in [0, 1).")
    s = _Settings(
        t_transient=float(t_transient),
        t_sample=float(t_sample),
        n_sample=int(n_sample),
        n_orbit=int(n_orbit),
        rtol=float(tols["rtol"] if rtol is None else rtol),
        atol=float(tols["atol"] if atol is None else atol),
        max_steps=int(max_steps),
        escape_radius=float(escape_radius),
        fp_tol=float(tols["fp_tol"] if fp_tol is None else fp_tol),
        newton_tol=float(tols["newton_tol"] if newton_tol is None else newton_tol),
        newton_steps=int(newton_steps),
        return_tol=float(return_tol),
        decay_tol=float(decay_tol),
        dedup_tol=float(tols["dedup_tol"] if dedup_tol is None else dedup_tol),
        cycle_tol=float(cycle_tol),
        other_tol=float(other_tol),
        hyperbolic_tol=float(
            jnp.finfo(dtype).eps ** (1.0 / 3.0) if hyperbolic_tol is None else hyperbolic_tol
        ),
        capacity=int(max_attractors),
        solver=diffrax.Tsit5() if solver is None else solver,
    )
    n_true = states.shape[0]
    samples = _analyse_samples(f, args, states, s, chunk_size)
    rep, reps, remaining, labels = _group(samples, s)
    has_cycles = bool(jnp.any((reps >= 0) & (rep.status == CYCLE)))
    parts = _representatives(f, args, rep, reps, s, has_cycles)
    att = _assemble(parts, reps, remaining, labels, samples.reason, samples.final,
                    n_true)
    if equilibria is not None:
        att = _match_equilibria(att, equilibria, max(s.dedup_tol, 1e-6))
    if samples.status.shape[0] == n_true:
        return att
    return eqx.tree_at(
        lambda a: (a.labels, a.reason, a.final_state),
        att,
        (att.labels[:n_true], att.reason[:n_true], att.final_state[:n_true]),
    )


def _match_equilibria(att: Attractors, equilibria: Equilibria, tol: float) -> Attractors:
    if not isinstance(equilibria, Equilibria):
        raise ValueError(
            "`equilibria` must be a gru_bif.Equilibria (from gru_bif.find_equilibria); "
            f"got {type(equilibria).__name__}."
        )
    ex = np.asarray(equilibria.x)
    ev = np.asarray(equilibria.valid)
    x = np.asarray(att.x)
    kind = np.asarray(att.kind)
    if ex.ndim != 2 or ex.shape[1] != x.shape[1]:
        raise ValueError(
            f"`equilibria` have states of shape {ex.shape[1:]}, the system's are "
            f"{x.shape[1:]}: pass the equilibria of the same system."
        )
    idx = np.full(kind.shape, -1, np.int32)
    for i in np.nonzero(kind == FIXED_POINT)[0]:
        dist = np.where(ev, np.max(np.abs(ex - x[i]), axis=1), np.inf)
        if dist.size and dist.min() <= tol * (1 + np.max(np.abs(x[i]))):
            idx[i] = int(np.argmin(dist))
    return eqx.tree_at(lambda a: a.equilibrium_index, att, jnp.asarray(idx))


def _chunk(n: int, chunk_size: "int | None") -> int:
    """The compiled chunk shape: the states split into `ceil(n / chunk_size)` equal
    chunks, each rounded up to a multiple of 128 (a power of two, at least 16, below
    that), so that few shapes compile and little padding is integrated."""
    n_chunks = 1 if chunk_size is None else -(-n // int(chunk_size))
    per = -(-n // n_chunks)
    if per <= 128:
        return max(16, 1 << (per - 1).bit_length())
    return -(-per // 128) * 128


def _analyse_samples(f, args, states, s: _Settings, chunk_size) -> _Sample:
    """Integrate and examine every state, in chunks (see `_chunk`). Padding rows (copies
    of the last state) get the status `-1` and are never grouped."""
    N = states.shape[0]
    c = _chunk(N, chunk_size)
    n_pad = -(-N // c) * c
    if n_pad > N:
        states = jnp.concatenate([states, jnp.repeat(states[-1:], n_pad - N, axis=0)])
    parts = [_analyse_chunk(f, args, states[i:i + c], s) for i in range(0, n_pad, c)]
    out = parts[0] if len(parts) == 1 else jax.tree.map(
        lambda *a: jnp.concatenate(a, axis=0), *parts
    )
    if n_pad > N:
        status = jnp.where(jnp.arange(n_pad) < N, out.status, -1)
        out = eqx.tree_at(lambda o: o.status, out, status)
    return out
