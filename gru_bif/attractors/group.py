"""Grouping analysed samples into attractors (greedy, fixed shapes; cycles compared by
a phase-independent orbit distance), their representatives and the assembled result."""


import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp

from .._compile import filter_jit
from .._custom_types import Array, Float
from ..equilibria import classify_eigenvalues

from .results import CAPACITY_EXCEEDED, CYCLE, FIXED_POINT, UNSTABLE_EQUILIBRIUM, Attractors
from .sample import _Sample, _Settings

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


@filter_jit
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


@filter_jit
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


@filter_jit
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


