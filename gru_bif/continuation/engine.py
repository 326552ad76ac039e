"""The continuation engine: one compiled `while_loop` of predictor → corrector → step
control → test functions, then location of every flagged point after the loop.

The loop only *flags*: test-function values are stored per step and sign changes are
found afterwards (as diffrax does with events); each flagged interval is then refined by
an Illinois (regula falsi) search along the arclength, every evaluation a Newton
correction back onto the branch, and the kind's data (Hopf ω and l1, fold coefficient)
are computed at the located point. Nothing costly sits inside a `lax.cond` of the step
body, so `vmap` over many systems stays efficient.

This module is long because the loop's pieces — settings and state types, predictor,
corrector, step control, test functions, location and branch assembly — are traced
into one program and share private types; the compiled front doors of concrete calls
live in `programs.py`, validation and the public API in `api.py`.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array
from .._results import RESULTS
from .._util import stop_gradient_tree
from ..branch import Branch, SpecialKind, SpecialPoints
from .problems import AbstractContinuationProblem


# --------------------------------------------------------------------------- algorithms
class AbstractContinuationAlgorithm(eqx.Module):
    """How the predicted point is constrained during correction."""


class PseudoArclength(AbstractContinuationAlgorithm):
    """Pseudo-arclength continuation (Keller): correct on `[H(u); t·(u − u_k) − ds]`.
    Passes folds. `secant=True` predicts along the secant of the last two points instead
    of the bordered tangent (the tangent is still computed for the test functions)."""

    secant: bool = eqx.field(static=True, default=False)


class Natural(AbstractContinuationAlgorithm):
    """Natural-parameter continuation: the parameter is fixed at each step and only the
    state is corrected. Cannot pass folds (stops there with `corrector_failed`)."""


# --------------------------------------------------------------------------- settings
class _Settings(eqx.Module):
    p_min: Array
    p_max: Array
    ds: Array
    ds_min: Array
    ds_max: Array
    tol: Array
    cos_max_angle: Array


class _StaticSettings(eqx.Module):
    max_steps: int = eqx.field(static=True)
    max_newton: int = eqx.field(static=True)
    target_newton: int = eqx.field(static=True)
    max_special_points: int = eqx.field(static=True)
    max_locate_iterations: int = eqx.field(static=True)
    algorithm: AbstractContinuationAlgorithm


class ContinuationState(eqx.Module):
    """The loop state (also what manual stepping exposes)."""

    u: Array
    t: Array
    ds: Array
    k: Array
    attempts: Array
    rejected: Array
    newton_total: Array
    done: Array
    result: RESULTS
    X: Array
    T: Array
    S: Array
    NU: Array
    DS: Array
    IT: Array


# --------------------------------------------------------------------------- pieces
def _jac(cp: AbstractContinuationProblem, u):
    """`(lin, H(u))`: the problem's linearisation (the dense `H_u` by default) and its
    residual."""
    H, lin = cp.linearize(u)
    return lin, H


def corrector(cp, u_guess, w, c, tol, max_iter: int, damped: bool = False):
    """Newton on `[H(u); w·u − c] = 0` from `u_guess`. Returns `(u, iterations,
    converged)`. Convergence: `max|Δu| ≤ tol (1 + max|u|)` on a full step.

    `damped=True` (the start of a branch when plain Newton failed: the guess may be
    far from the solution): each Newton direction is shortened by halving until the residual norm
    decreases (Armijo backtracking, at most 20 halvings), so that a start inside a
    limit cycle or far out on a saturated tanh reaches the equilibrium instead of
    diverging; near the solution full steps are taken and convergence is quadratic."""
    dtype = u_guess.dtype

    def cond(s):
        it, _, ok, fail = s
        return (~ok) & (~fail) & (it < max_iter)

    def residual(u, H):
        return jnp.concatenate([H.astype(dtype), (jnp.dot(w, u) - c)[None]])

    def body(s):
        it, u, _, _ = s
        J, H = _jac(cp, u)
        r = residual(u, H)
        du = cp.bordered_solve(u, J, w, r)
        lam = jnp.ones((), dtype)
        if damped:
            r0 = jnp.linalg.norm(r)

            def shorter(lam):
                u_t = u - lam * du
                r1 = jnp.linalg.norm(residual(u_t, cp.residual(u_t)))
                return (~(r1 <= (1 - 1e-4 * lam) * r0)) & (lam > 2.0**-20)

            lam = jax.lax.while_loop(shorter, lambda lam: lam / 2, lam)
            # no decrease at all: take the full step (Newton may still converge)
            lam = jnp.where(lam > 2.0**-20, lam, 1.0)
        u_new = u - lam * du
        nrm = jnp.max(jnp.abs(du))
        ok = (nrm <= tol * (1 + jnp.max(jnp.abs(u_new)))) & (lam == 1)
        fail = ~jnp.isfinite(nrm)
        return it + 1, u_new, ok, fail

    init = (jnp.asarray(0, jnp.int32), u_guess, jnp.asarray(False), jnp.asarray(False))
    it, u, ok, fail = jax.lax.while_loop(cond, body, init)
    ok = ok & ~fail & jnp.all(jnp.isfinite(u))
    return u.astype(dtype), it, ok


def point_info(cp, u, t_ref):
    """Everything the loop needs at a point: Jacobian `H_u`, the unit tangent oriented
    with `t_ref`, the test-function values `[fold, branch point, *extra]` and the number
    of unstable directions."""
    J, _ = _jac(cp, u)
    n1 = u.shape[0]
    e = jnp.zeros((n1,), u.dtype).at[-1].set(1.0)
    t, det = cp.bordered_solve(u, J, t_ref, e, with_det=True)
    t = t / _wnorm(cp, u, t)
    extra, nu = cp.tests_and_stability(u, J)
    tests = jnp.concatenate([jnp.stack([t[-1], det]), extra])
    return J, t, tests, nu


def _weighted(cp, u, v):
    """`W v`: `v` scaled by the problem's step-norm weights at `u` (unchanged when the
    problem uses the Euclidean norm)."""
    w = cp.arclength_weights(u)
    return v if w is None else w.astype(v.dtype) * v


def _wnorm(cp, u, v):
    """The step norm `√(vᵀ W v)` of `v` at `u`."""
    return jnp.sqrt(jnp.dot(v, _weighted(cp, u, v)))


def _kinds(cp) -> tuple:
    return (cp.fold_kind, SpecialKind.BRANCH_POINT) + tuple(cp.extra_kinds)


# --------------------------------------------------------------------------- init/step
def _init(cp, u0, direction, settings: _Settings, static: _StaticSettings, tangent0=None):
    n1 = u0.shape[0]
    dtype = u0.dtype
    if tangent0 is None:
        w0 = jnp.zeros((n1,), dtype).at[-1].set(1.0)
    else:
        w0 = tangent0 / _wnorm(cp, u0, tangent0)
    c0 = _weighted(cp, u0, w0)
    # plain Newton first (what converges near a solution, boundary-value problems
    # included); if it fails, damped Newton from the same start
    c0u = jnp.dot(c0, u0)
    u, it, ok = corrector(cp, u0, c0, c0u, settings.tol, 4 * static.max_newton)
    u, it, ok = jax.lax.cond(
        ok,
        lambda: (u, it, ok),
        lambda: corrector(
            cp, u0, c0, c0u, settings.tol, 8 * static.max_newton, damped=True
        ),
    )
    # a failed start keeps the given point (not the diverged iterate) in row 0
    u = jnp.where(ok, u, u0)
    _, t, tests, nu = point_info(cp, u, direction * w0)
    singular = ~jnp.all(jnp.isfinite(t))
    nonfinite = ~jnp.all(jnp.isfinite(cp.residual(u0)))
    result = RESULTS.where(
        nonfinite,
        RESULTS.nonfinite_vector_field,
        RESULTS.where(
            ~ok,
            RESULTS.start_not_converged,
            RESULTS.where(singular, RESULTS.singular_start, RESULTS.successful),
        ),
    )
    M = static.max_steps + 1
    nt = tests.shape[0]
    X = jnp.full((M, n1), jnp.nan, dtype).at[0].set(u)
    T = jnp.full((M, n1), jnp.nan, dtype).at[0].set(t)
    S = jnp.full((M, nt), jnp.nan, dtype).at[0].set(tests)
    NU = jnp.full((M,), -1, jnp.int32).at[0].set(nu)
    DS = jnp.full((M,), jnp.nan, dtype).at[0].set(0.0)
    IT = jnp.full((M,), -1, jnp.int32).at[0].set(it)
    return ContinuationState(
        u=u,
        t=t,
        ds=jnp.clip(jnp.abs(settings.ds), settings.ds_min, settings.ds_max),
        k=jnp.asarray(0, jnp.int32),
        attempts=jnp.asarray(0, jnp.int32),
        rejected=jnp.asarray(0, jnp.int32),
        newton_total=it,
        done=result != RESULTS.successful,
        result=result,
        X=X,
        T=T,
        S=S,
        NU=NU,
        DS=DS,
        IT=IT,
    )


def _step(cp, state: ContinuationState, settings: _Settings, static: _StaticSettings):
    u, t, ds, k = state.u, state.t, state.ds, state.k
    n1 = u.shape[0]
    dtype = u.dtype
    alg = static.algorithm
    direction = t
    if isinstance(alg, PseudoArclength) and alg.secant:
        prev = state.X[jnp.maximum(k - 1, 0)]
        sec = u - prev
        nsec = _wnorm(cp, u, sec)
        direction = jnp.where((k > 0) & (nsec > 0), sec / jnp.where(nsec > 0, nsec, 1), t)
    u_pred = u + ds * direction
    if isinstance(alg, Natural):
        w = jnp.zeros((n1,), dtype).at[-1].set(1.0)
        c = u_pred[-1]
    else:
        w = _weighted(cp, u, direction)
        c = jnp.dot(w, u) + ds
    u_new, iters, conv = corrector(cp, u_pred, w, c, settings.tol, static.max_newton)
    _, t_new, tests, nu = point_info(cp, u_new, t)
    finite = jnp.all(jnp.isfinite(u_new)) & jnp.all(jnp.isfinite(t_new))
    at_min = ds <= settings.ds_min * (1 + 1e-8)
    angle_ok = (jnp.dot(_weighted(cp, u, t_new), t) >= settings.cos_max_angle) | at_min
    accept = conv & finite & angle_ok

    k1 = k + 1
    # A finished branch (possible in the batch-native loop, where the loop runs while
    # any branch is active) writes nowhere: its row index is out of bounds and dropped.
    live = ~state.done
    kw = jnp.where(live, k1, state.X.shape[0])
    X = state.X.at[kw].set(u_new, mode="drop")
    T = state.T.at[kw].set(t_new, mode="drop")
    S = state.S.at[kw].set(tests, mode="drop")
    NU = state.NU.at[kw].set(nu, mode="drop")
    DS = state.DS.at[kw].set(ds, mode="drop")
    IT = state.IT.at[kw].set(iters, mode="drop")

    target = static.target_newton
    grow = jnp.where(iters < target, 1.5, jnp.where(iters == target, 1.0, 0.6))
    ds_acc = jnp.clip(ds * grow, settings.ds_min, settings.ds_max)
    ds_rej = ds * 0.5
    ds_next = jnp.where(accept, ds_acc, ds_rej)
    failed = ~accept & at_min

    k_new = jnp.where(accept, k1, k)
    u_out = jnp.where(accept, u_new, u)
    t_out = jnp.where(accept, t_new, t)
    p_new = u_new[-1]
    out_of_range = accept & ((p_new < settings.p_min) | (p_new > settings.p_max))
    closed = (
        accept
        & (k1 > 4)
        & (_wnorm(cp, u, u_new - state.X[0]) < 0.75 * ds)
        & (jnp.dot(_weighted(cp, u, t_new), state.T[0]) > 0.5)
    )
    full = k_new >= static.max_steps
    nonfinite_residual = ~finite & at_min
    result = RESULTS.where(
        nonfinite_residual,
        RESULTS.nonfinite_vector_field,
        RESULTS.where(
            failed,
            RESULTS.corrector_failed,
            RESULTS.where(
                out_of_range,
                RESULTS.reached_parameter_bound,
                RESULTS.where(
                    closed,
                    RESULTS.closed_branch,
                    RESULTS.where(
                        full, RESULTS.max_steps_reached_continuation, state.result
                    ),
                ),
            ),
        ),
    )
    done = failed | out_of_range | closed | full

    def keep(new, old):
        return jnp.where(live, new, old)

    return ContinuationState(
        u=keep(u_out, u),
        t=keep(t_out, t),
        ds=keep(ds_next, ds),
        k=keep(k_new, k),
        attempts=state.attempts + live.astype(jnp.int32),
        rejected=state.rejected + (live & ~accept).astype(jnp.int32),
        newton_total=state.newton_total + jnp.where(live, iters, 0),
        done=keep(done, state.done),
        result=RESULTS.where(live, result, state.result),
        X=X,
        T=T,
        S=S,
        NU=NU,
        DS=DS,
        IT=IT,
    )


def _finish_at_bound(cp, state: ContinuationState, settings, static):
    """If the last accepted point lies outside [p_min, p_max], correct it onto the
    bound (natural constraint p = bound), so the branch ends exactly there."""
    k = state.k
    last = state.X[k]
    prev = state.X[jnp.maximum(k - 1, 0)]
    p_last = last[-1]
    above = p_last > settings.p_max
    out = (above | (p_last < settings.p_min)) & (k > 0)
    bound = jnp.where(above, settings.p_max, settings.p_min)
    dp = last[-1] - prev[-1]
    frac = jnp.where(dp != 0, (bound - prev[-1]) / jnp.where(dp != 0, dp, 1), 1.0)
    guess = prev + jnp.clip(frac, 0, 1) * (last - prev)
    e_p = jnp.zeros_like(last).at[-1].set(1.0)
    u_b, _, ok = corrector(cp, guess, e_p, bound, settings.tol, static.max_newton)
    _, t_b, tests_b, nu_b = point_info(cp, u_b, state.T[jnp.maximum(k - 1, 0)])
    use = out & ok & jnp.all(jnp.isfinite(t_b))
    X = state.X.at[k].set(jnp.where(use, u_b, last))
    T = state.T.at[k].set(jnp.where(use, t_b, state.T[k]))
    S = state.S.at[k].set(jnp.where(use, tests_b, state.S[k]))
    NU = state.NU.at[k].set(jnp.where(use, nu_b, state.NU[k]))
    return eqx.tree_at(lambda s: (s.X, s.T, s.S, s.NU), state, (X, T, S, NU))


def _run_direction_single(cp, u0, direction, settings, static, tangent0=None):
    state = _init(cp, u0, direction, settings, static, tangent0)
    state = jax.lax.while_loop(
        lambda s: ~s.done, lambda s: _step(cp, s, settings, static), state
    )
    return _finish_at_bound(cp, state, settings, static)


def _run_direction(cp, u0, direction, settings, static, tangent0=None):
    """One direction of a branch: init, the loop, the end on the bound.

    Under `jax.vmap` this runs batch-native (a `custom_vmap` rule): one `while_loop`
    that continues while any branch is active, with the step vmapped inside it. A plain
    vmap of the loop would, at every step, select between the old and new loop state of
    every branch — including the whole `(max_steps + 1)`-row buffers — so that a batch's
    cost grew with `max_steps` rather than with the steps taken; here finished branches
    only skip their (dropped) row writes.
    """
    dyn_cp, static_cp = eqx.partition(cp, eqx.is_array)
    dyn = (dyn_cp, u0, direction, settings, tangent0)

    def run_one(dyn):
        c, u0_, d, st, t0 = dyn
        return _run_direction_single(eqx.combine(c, static_cp), u0_, d, st, static, t0)

    run = jax.custom_batching.custom_vmap(run_one)

    @run.def_vmap
    def _batched_rule(axis_size, in_batched, dyn):
        (in_batched,) = in_batched
        dyn = jax.tree.map(
            lambda x, b: x if b else jnp.broadcast_to(x, (axis_size,) + jnp.shape(x)),
            dyn, in_batched,
        )

        def one(fn):
            def g(dyn_i, *rest):
                c, u0_, d, st, t0 = dyn_i
                return fn(eqx.combine(c, static_cp), u0_, d, st, t0, *rest)
            return jax.vmap(g)

        init = one(lambda c, u0_, d, st, t0: _init(c, u0_, d, st, static, t0))(dyn)
        step = one(lambda c, u0_, d, st, t0, s_: _step(c, s_, st, static))
        state = jax.lax.while_loop(
            lambda s_: jnp.any(~s_.done), lambda s_: step(dyn, s_), init
        )
        state = one(lambda c, u0_, d, st, t0, s_: _finish_at_bound(c, s_, st, static))(
            dyn, state
        )
        return state, jax.tree.map(lambda _: True, state)

    return run(dyn)


# --------------------------------------------------------------------------- location
def _locate_one(cp, X, T, S, row, col, valid, settings, static):
    """Illinois search for the zero of test function `col` between rows `row` and
    `row + 1`, each evaluation a Newton correction onto the branch."""
    return _locate_bracket(
        cp, X[row], T[row], X[row + 1], S[row, col], S[row + 1, col], col, valid, X[0],
        settings, static,
    )


def _locate_bracket(cp, u_a, t_a, u_b, f_a, f_b, col, valid, x_first, settings, static):
    """Illinois search for the zero of test function `col` between the branch points
    `u_a` (tangent `t_a`, test value `f_a`) and `u_b` (`f_b`); `x_first` (a point known
    to be valid) stands in for `u_a` in padding slots (`valid = False`)."""
    dtype = u_a.dtype
    w_a = _weighted(cp, jnp.where(valid, u_a, x_first), t_a)
    s_b = jnp.dot(w_a, u_b - u_a)
    s_b = jnp.where(valid & (s_b != 0), s_b, 1.0)
    c0 = jnp.dot(w_a, u_a)

    def evaluate(s):
        guess = u_a + (s / s_b) * (u_b - u_a)
        u, _, ok = corrector(cp, guess, w_a, c0 + s, settings.tol, static.max_newton)
        _, t, tests, _ = point_info(cp, u, t_a)
        return u, t, tests[col], ok

    eps = jnp.finfo(dtype).eps
    s_tol = 16 * eps * (jnp.abs(s_b) + jnp.max(jnp.abs(u_a)))

    def cond(c):
        a, fa, b, fb, side, u, t, it, ok, done = c
        return (~done) & (it < static.max_locate_iterations)

    def body(c):
        a, fa, b, fb, side, u, t, it, ok, _ = c
        denom = fb - fa
        r = jnp.where(denom != 0, (a * fb - b * fa) / jnp.where(denom != 0, denom, 1), 0.5 * (a + b))
        lo, hi = jnp.minimum(a, b), jnp.maximum(a, b)
        r = jnp.where((r > lo) & (r < hi), r, 0.5 * (a + b))
        u_r, t_r, fr, ok_r = evaluate(r)
        same_b = jnp.sign(fr) == jnp.sign(fb)
        same_a = jnp.sign(fr) == jnp.sign(fa)
        # root in [a, r]: move b
        new_b, new_fb = jnp.where(same_b, r, b), jnp.where(same_b, fr, fb)
        new_fa = jnp.where(same_b & (side == -1), fa / 2, fa)
        # root in [r, b]: move a
        new_a = jnp.where(same_a & ~same_b, r, a)
        new_fa = jnp.where(same_a & ~same_b, fr, new_fa)
        new_fb = jnp.where(same_a & ~same_b & (side == 1), new_fb / 2, new_fb)
        new_side = jnp.where(same_b, -1, jnp.where(same_a, 1, side))
        hit = fr == 0
        # an exact zero of the test function closes the bracket onto r
        new_a = jnp.where(hit, r, new_a)
        new_b = jnp.where(hit, r, new_b)
        done = hit | (jnp.abs(new_b - new_a) <= s_tol) | ~ok_r
        return new_a, new_fa, new_b, new_fb, new_side, u_r, t_r, it + 1, ok_r, done

    init = (
        jnp.zeros((), dtype),
        f_a,
        s_b,
        f_b,
        jnp.asarray(0, jnp.int32),
        u_a,
        t_a,
        jnp.asarray(0, jnp.int32),
        jnp.asarray(True),
        ~valid,
    )
    a, _, b, _, _, u, t, it, ok, _ = jax.lax.while_loop(cond, body, init)
    precision = jnp.abs(b - a)
    located = ok & (precision <= 1e3 * s_tol)
    return u, t, precision, located


def _brackets(xp, S, n, K):
    """Sign changes of the stored test functions `S` among the first `n` rows: the
    first `K` (row-major) as `(row, col, valid)`, and how many there were."""
    R, nt = S.shape
    rows = xp.arange(R - 1)
    pair_ok = (rows + 1 < n)[:, None] & xp.isfinite(S[:-1]) & xp.isfinite(S[1:])
    change = ((S[:-1] < 0) != (S[1:] < 0)) & pair_ok
    flat = change.reshape(-1)
    total = xp.sum(flat)
    if xp is jnp:
        (idx,) = jnp.nonzero(flat, size=K, fill_value=flat.shape[0])
    else:
        idx = np.full(K, flat.shape[0])
        found = np.nonzero(flat)[0][:K]
        idx[: len(found)] = found
    valid = idx < flat.shape[0]
    idx = xp.where(valid, idx, 0)
    return idx // nt, idx % nt, valid, total


def _select(xp, cp, x_first, u, kind, valid, ok_data):
    """Which located points to keep, and the order that puts them first. A fold
    located on top of a branch point is the branch point seen from a branch through it
    (e.g. the symmetric branch of a pitchfork): only the branch point is kept."""
    keep = valid & ok_data
    scale = 1 + xp.max(xp.abs(x_first))
    dist = xp.max(xp.abs(u[:, None, :] - u[None, :, :]), axis=-1)
    near_bp = xp.any(
        (dist < 1e-4 * scale) & (kind[None, :] == SpecialKind.BRANCH_POINT) & valid[None, :],
        axis=1,
    )
    keep = keep & ~((kind == cp.fold_kind) & near_bp)
    order = xp.argsort(~keep, stable=True) if xp is jnp else np.argsort(~keep, kind="stable")
    return keep[order], order


def _detect_and_locate(cp, X, T, S, n, settings, static):
    """Find sign changes of the stored test functions, locate each flagged point
    (with the non-differentiated problem `cp_ng`), then compute its data and attach
    implicit derivatives with the differentiable `cp`."""
    cp_ng = stop_gradient_tree(cp)
    kinds = jnp.asarray([int(k) for k in _kinds(cp)], jnp.int32)
    K = static.max_special_points
    row, col, valid, total = _brackets(jnp, S, n, K)

    def one(row, col, valid):
        u, t, precision, located = _locate_one(
            cp_ng, X, T, S, row, col, valid, settings, static
        )
        kind = jnp.where(valid, kinds[col], int(SpecialKind.NONE))  # padding: no kind
        J, _ = _jac(cp_ng, u)
        ok_data, u_att, data = cp.special_data(kind, u, J, t)
        return u, u_att, t, precision, located, kind, ok_data, data

    u, u_att, t, precision, located, kind, ok_data, data = jax.lax.map(
        lambda a: one(*a), (row, col, valid)
    )
    keep, order = _select(jnp, cp, X[0], u, kind, valid, ok_data)
    nan = jnp.nan

    def take(a, fill):
        a = a[order]
        mask = keep.reshape(keep.shape + (1,) * (a.ndim - 1))
        return jnp.where(mask, a, fill)

    special = SpecialPoints(
        kind=take(kind, SpecialKind.NONE).astype(jnp.int32),
        p=take(jax.vmap(cp.param)(u_att), nan),
        x=take(jax.vmap(cp.state)(u_att), nan),
        index=take(row, -1).astype(jnp.int32),
        precision=take(precision, nan),
        located=take(located, False),
        tangent=take(t, nan),
        data={k: take(v, nan) for k, v in data.items()},
        count=jnp.sum(keep).astype(jnp.int32),
    )
    dropped = jnp.maximum(total - K, 0)
    return special, dropped


# --------------------------------------------------------------------------- driver
def _merge_both(fwd: ContinuationState, bwd: ContinuationState, n_tests_signed: int):
    """Join a backward run (reversed) and a forward run into one branch."""
    nb = bwd.k + 1
    nf = fwd.k + 1
    M = fwd.X.shape[0]
    i = jnp.arange(2 * M - 1)
    from_b = i < nb
    ib = jnp.clip(nb - 1 - i, 0, M - 1)
    jf = jnp.clip(i - nb + 1, 0, M - 1)

    def pick(a_b, a_f, flip=None):
        vb = a_b[ib]
        if flip is not None:
            vb = vb * flip
        vf = a_f[jf]
        mask = from_b.reshape(from_b.shape + (1,) * (vb.ndim - 1))
        return jnp.where(mask, vb, vf)

    nt = fwd.S.shape[1]
    flip_s = jnp.concatenate(
        [-jnp.ones((n_tests_signed,)), jnp.ones((nt - n_tests_signed,))]
    ).astype(fwd.S.dtype)
    X = pick(bwd.X, fwd.X)
    T = pick(bwd.T, fwd.T, -1.0)
    S = pick(bwd.S, fwd.S, flip_s)
    NU = pick(bwd.NU, fwd.NU)
    DS = pick(bwd.DS, fwd.DS)
    IT = pick(bwd.IT, fwd.IT)
    n = nb + nf - 1
    return X, T, S, NU, DS, IT, n


def _mask_rows(a, n, fill):
    rows = jnp.arange(a.shape[0]) < n
    return jnp.where(rows.reshape(rows.shape + (1,) * (a.ndim - 1)), a, fill)


def _check_shapes(cp, u0):
    """Trace-time check (free at run time) that the residual fits the unknowns."""
    out = jax.eval_shape(cp.residual, u0)
    if out.shape != (u0.shape[0] - 1,):
        raise ValueError(
            f"The vector field returns shape {out.shape} for a state of shape "
            f"({u0.shape[0] - 1},); they must agree. Check x0's length."
        )


def rows_of(st: ContinuationState):
    """The rows of one direction's finished state, in the form `_run_loop` returns."""
    stats = {
        "steps": st.k,
        "attempts": st.attempts,
        "rejected": st.rejected,
        "newton_iterations": st.newton_total,
    }
    return st.X, st.T, st.S, st.NU, st.DS, st.IT, st.k + 1, st.result, stats


def join_directions(fwd, bwd):
    """One branch from a forward and a backward run (anything with the fields of a
    `ContinuationState` used here): rows, their number, the result (the first failure,
    else the forward run's) and the summed statistics, as `_run_loop` returns them."""
    X, T, S, NU, DS, IT, n = _merge_both(fwd, bwd, 2)
    bad_b = (bwd.result == RESULTS.corrector_failed) | (
        bwd.result == RESULTS.nonfinite_vector_field
    )
    result = RESULTS.where(
        (fwd.result == RESULTS.corrector_failed)
        | (fwd.result == RESULTS.nonfinite_vector_field),
        fwd.result,
        RESULTS.where(bad_b, bwd.result, fwd.result),
    )
    stats = {
        "steps": fwd.k + bwd.k,
        "attempts": fwd.attempts + bwd.attempts,
        "rejected": fwd.rejected + bwd.rejected,
        "newton_iterations": fwd.newton_total + bwd.newton_total,
    }
    return X, T, S, NU, DS, IT, n, result, stats


def _run_loop(cp, u0, settings, static, directions: tuple, tangent0=None):
    """The continuation loop in every direction asked for (no location): the branch's
    rows `(X, T, S, NU, DS, IT)`, their number `n`, the result and the statistics."""
    if len(directions) == 1:
        st = _run_direction(
            cp, u0, jnp.asarray(directions[0], u0.dtype), settings, static, tangent0
        )
        return rows_of(st)
    else:
        dirs = jnp.asarray(directions, u0.dtype)
        both = jax.vmap(
            lambda d: _run_direction(cp, u0, d, settings, static, tangent0)
        )(dirs)
        fwd = jax.tree.map(lambda a: a[0], both)
        bwd = jax.tree.map(lambda a: a[1], both)
        X, T, S, NU, DS, IT, n, result, stats = join_directions(fwd, bwd)
    return X, T, S, NU, DS, IT, n, result, stats


@filter_jit
def _continuation_jit(cp, u0, settings, static, directions: tuple, tangent0=None):
    """The whole continuation as one program: used when the call is traced (under a
    user's `jit`, `vmap` or `grad`); concrete calls go through `continuation_programs`."""
    _check_shapes(cp, u0)
    cp_diff, cp = cp, stop_gradient_tree(cp)
    u0 = jax.lax.stop_gradient(u0)
    X, T, S, NU, DS, IT, n, result, stats = _run_loop(
        cp, u0, settings, static, directions, tangent0
    )
    return assemble_branch(cp_diff, X, T, S, NU, DS, IT, n, result, stats, settings, static)


def assemble_branch(cp_diff, X, T, S, NU, DS, IT, n, result, stats, settings, static):
    """The `Branch` of the loop's rows (traced): special points located, rows masked
    beyond `n`, and implicit derivatives attached to the points (`cp_diff` carries the
    gradients; the loop itself ran without them). Used by the one-program path and by
    `ContinuationIterator.branch`."""
    cp = stop_gradient_tree(cp_diff)
    special, dropped = _detect_and_locate(cp_diff, X, T, S, n, settings, static)
    stats = dict(stats, special_dropped=dropped)
    X = _mask_rows(X, n, jnp.nan)
    X = cp_diff.attach_points(X)
    NU = _mask_rows(NU, n, -1)
    return Branch(
        x=jax.vmap(cp.state)(X),
        p=X[:, -1],
        stable=NU == 0,
        n_unstable=NU,
        ds=_mask_rows(DS, n, jnp.nan),
        newton_iterations=_mask_rows(IT, n, -1),
        num_points=jnp.asarray(n).astype(jnp.int32),
        special=special,
        result=result,
        stats=stats,
        param_name=cp.param_name,
    )
