"""Attractors from samples: where thousands of initial states end up, and with what
probability.

[`gru_bif.attractors.find_attractors`][] integrates every initial state (Diffrax, vmapped,
in chunks), looks at the tail of each trajectory after a transient and recognises

- a **fixed point**: the tail's speed `max|f|` at its last sample is below `fp_tol`; the
  last state is polished by damped Newton steps on the vector field (`lineax` LU solves) and
  accepted if the residual falls below `newton_tol` without moving farther than
  `fp_radius` (relative; raise it for weakly attracting points). Fixed points that
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
  its first half) and comes back (its last state lies in the box of its first half,
  widened by `decay_tol` of its extent: a slow monotone drift is not an attractor). It is recognised by a signature of histogram features: the mean,
  standard deviation and 5 % and 95 % quantiles of each coordinate over the tail
  (quantiles rather than the extremes, which fluctuate from one chaotic tail to
  the next). A tail that
  still shrinks, or drifts away, has not converged: label `-1`, reason
  `"not_converged"` (increase `t_transient`).

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
import numpy as np

from .._custom_types import Args, Array, Float
from ..equilibria import Equilibria
from ..models.gru import GRU
from ..problem import Problem

from ..simulate import resolve_field
from .group import _assemble, _group, _representatives
from .results import CYCLE, FIXED_POINT, Attractors
from .sample import _analyse_samples, _Settings

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
    fp_radius: float = 1e-3,
    newton_tol: "float | None" = None,
    newton_steps: int = 8,
    return_tol: float = 1e-2,
    decay_tol: float = 0.1,
    dedup_tol: "float | None" = None,
    cycle_tol: float = 1e-2,
    other_tol: float = 0.1,
    hyperbolic_tol: "float | None" = None,
    equilibria: "Equilibria | None" = None,
    mesh=None,
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
    - `mesh`: optional `jax.sharding.Mesh` (e.g. `gru_bif.distributed.global_mesh()`
        over several processes): every chunk's states are split over its devices
        (`gru_bif.batched`); the grouping then runs on every process on the gathered
        samples, so every process returns the same result, equal to one process's.
    - `solver`: a Diffrax solver (default `diffrax.Tsit5()`); `rtol`, `atol`: its step
        size controller's tolerances (default 1e-8, 1e-10 in float64; 1e-5, 1e-7 in
        float32); `max_steps`: per trajectory.
    - `escape_radius`: a trajectory with `max|x|` above this stops and is labelled
        `-1` (reason `"escaped"`); `float("inf")` switches the test off.
    - `fp_tol`: the largest speed `max|f|` at the end of the tail of a trajectory at a
        fixed point (default 1e-6; 1e-3 in float32).
    - `fp_radius`: how far Newton may move the tail's last state onto the fixed point,
        relative to `1 + max|x|` (default 1e-3). Weakly attracting fixed points (a
        trained network's memories decay at rates of 1e-3 or less) need very long
        transients to meet the defaults; a larger `fp_radius` with a larger `fp_tol`
        accepts a tail that Newton's method carries onto a *stable* fixed point from
        within that ball (e.g. `fp_tol=1e-3, fp_radius=0.05`). Keep the ball smaller
        than the distance to the nearest saddle: a tail near a saddle is pulled onto it
        and labelled `-1` (`"unstable_equilibrium"`), never given to an attractor.
    - `newton_tol`, `newton_steps`: the polished fixed point must have `max|f| <=
        newton_tol` (default 1e-9; 1e-4 in float32) after `newton_steps` damped Newton steps.
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
    f, args = resolve_field(field, args)
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
    if not (np.isfinite(fp_radius) and fp_radius > 0):
        raise ValueError(f"fp_radius={fp_radius}; it must be positive and finite.")
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
        fp_radius=float(fp_radius),
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
    samples = _analyse_samples(f, args, states, s, chunk_size, mesh)
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


