"""`find_equilibria`: root finding from many starts in one vmapped call, polish,
residual check, deduplication and classification (see `gru_bif.equilibria`)."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import lineax as lx
import numpy as np
import optimistix as optx

from .._compile import filter_jit
from .._custom_types import Args, Array
from .._results import RESULTS
from ..models.gru import GRU, gru_candidate_residual, gru_vector_field
from ..problem import Problem
from .classify import EQUILIBRIUM_TYPES, _default_hyperbolic_tol, classify_eigenvalues
from .results import Equilibria, _concrete

# --------------------------------------------------------------------------- inputs


class _Setup(eqx.Module):
    f: Callable
    residual: Callable
    args: Any
    dim: int | None = eqx.field(static=True)
    is_gru: bool = eqx.field(static=True)


def _setup(problem_or_f, args, residual) -> _Setup:
    if isinstance(problem_or_f, Problem):
        if args is not None:
            raise ValueError(
                "`args` was given together with a gru_bif.Problem, which carries its "
                "own args; pass `args=None` (change them with `problem.with_args`)."
            )
        f, args = problem_or_f.f, problem_or_f.args
    elif isinstance(problem_or_f, GRU):
        gru = problem_or_f
        u = gru._input(None if args is None else jnp.asarray(args))
        f, args = gru_vector_field, {"gru": gru, "u": u}
    elif callable(problem_or_f):
        f = problem_or_f
    else:
        raise ValueError(
            "Pass a gru_bif.Problem, a gru_bif.GRU, or a vector field f(t, x, args); "
            f"got {type(problem_or_f).__name__}."
        )
    from ..problem import field_function

    is_gru = field_function(f) is gru_vector_field
    dim = None
    if is_gru:
        dim = args["gru"].hidden_size
    if residual is None:
        residual = gru_candidate_residual if is_gru else f
    elif not callable(residual):
        raise ValueError(
            "`residual` must be a function r(t, x, args) with the same zeros as the "
            f"vector field; got {type(residual).__name__}."
        )
    return _Setup(f=f, residual=residual, args=args, dim=dim, is_gru=is_gru)


def _box_bounds(box, dim, dtype):
    if box is None:
        box = (-1.0, 1.0)
    try:
        lo, hi = box
    except (TypeError, ValueError):
        raise ValueError(
            f"`box` must be a pair (lo, hi) of scalars or of arrays of shape (d,); got "
            f"{box!r}."
        ) from None
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    shapes = {s for s in (lo.shape, hi.shape) if s != ()}
    if len(shapes) > 1 or any(len(s) != 1 for s in shapes):
        raise ValueError(
            f"`box` bounds must be scalars or 1-D arrays of one length; got shapes "
            f"{lo.shape} and {hi.shape}."
        )
    if shapes:
        (shape,) = shapes
        if dim is not None and shape[0] != dim:
            raise ValueError(
                f"`box` bounds have length {shape[0]} but the system has dimension {dim}."
            )
        dim = shape[0]
    if dim is None:
        raise ValueError(
            "Cannot tell the state dimension d: pass `guesses` of shape (N, d), or "
            "`box=(lo, hi)` with arrays of shape (d,)."
        )
    lo = np.broadcast_to(lo, (dim,))
    hi = np.broadcast_to(hi, (dim,))
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo < hi)):
        raise ValueError(f"`box` needs finite bounds with lo < hi; got lo={lo}, hi={hi}.")
    return jnp.asarray(lo, dtype), jnp.asarray(hi, dtype), dim


def _make_guesses(setup: _Setup, guesses, key, num_starts, box) -> Array:
    dtype = jnp.result_type(float)
    if guesses is not None:
        guesses = jnp.asarray(guesses)
        if not jnp.issubdtype(guesses.dtype, jnp.floating):
            guesses = guesses.astype(dtype)
        if guesses.ndim == 1:
            guesses = guesses[None]
        if guesses.ndim != 2 or guesses.shape[0] == 0:
            raise ValueError(
                f"`guesses` must have shape (N, d) (or (d,) for one start); got "
                f"{guesses.shape}."
            )
        if setup.dim is not None and guesses.shape[1] != setup.dim:
            raise ValueError(
                f"`guesses` have dimension {guesses.shape[1]} but the system has "
                f"dimension {setup.dim}; pass an array of shape (N, {setup.dim})."
            )
        if _concrete(guesses):
            bad = ~np.all(np.isfinite(np.asarray(guesses)), axis=1)
            if bad.any():
                rows = np.nonzero(bad)[0].tolist()
                raise ValueError(
                    f"`guesses` has NaN or inf entries in {len(rows)} rows "
                    f"(e.g. {rows[:5]}); pass finite starting points."
                )
        return guesses
    if int(num_starts) < 1:
        raise ValueError(f"`num_starts` must be at least 1; got {num_starts}.")
    lo, hi, dim = _box_bounds(box, setup.dim, dtype)
    key = jr.PRNGKey(0) if key is None else key
    return jr.uniform(key, (int(num_starts), dim), dtype, minval=lo, maxval=hi)


def _check_dims(setup: _Setup, guesses: Array) -> None:
    d = guesses.shape[1]
    x = jax.ShapeDtypeStruct((d,), guesses.dtype)
    for name, fn in (("vector field", setup.f), ("residual", setup.residual)):
        try:
            out = jax.eval_shape(lambda y: fn(0.0, y, setup.args), x)
        except Exception as e:
            raise ValueError(
                f"The {name} cannot be evaluated at a state of shape ({d},): "
                f"{str(e).rstrip('.')}. "
                "Check that `guesses` have the system's dimension."
            ) from e
        if getattr(out, "shape", None) != (d,):
            raise ValueError(
                f"The {name} returns shape {getattr(out, 'shape', None)} for a state of "
                f"shape ({d},): `guesses` must have the system's dimension d (a square "
                "system)."
            )


def _default_tols(dtype) -> tuple[float, float, float]:
    """(solver rtol/atol, residual tol, dedup tol) for a dtype."""
    if jnp.finfo(dtype).bits >= 64:
        return 1e-10, 1e-8, 1e-6
    return 1e-5, 1e-4, 1e-3


# --------------------------------------------------------------------------- core


def _inf_norm(v):
    return jnp.max(jnp.abs(v), axis=-1)


def _polish(f, args, y, steps):
    """A few Newton steps on the true field, each kept only if it lowers the residual."""

    def F(y):
        return f(0.0, y, args)

    def body(_, y):
        fy = F(y)
        jac = jax.jacfwd(F)(y)
        sol = lx.linear_solve(lx.MatrixLinearOperator(jac), fy, lx.LU(), throw=False)
        y_new = y - sol.value
        better = jnp.all(jnp.isfinite(y_new)) & (_inf_norm(F(y_new)) <= _inf_norm(fy))
        return jnp.where(better, y_new, y)

    return jax.lax.fori_loop(0, steps, body, y)


def _dedup(points, ok, score, capacity, dedup_tol):
    """Greedy clustering in fixed shapes: repeatedly take the best remaining point (lowest
    `score`) as a representative and drop every remaining point within `dedup_tol`
    (max-norm) of it. Returns representative indices `(capacity,)` (-1 padded), the count
    and whether points were left over."""

    def cond(c):
        i, remaining, _ = c
        return (i < capacity) & jnp.any(remaining)

    def body(c):
        i, remaining, reps = c
        j = jnp.argmin(jnp.where(remaining, score, jnp.inf))
        close = remaining & (_inf_norm(points - points[j]) <= dedup_tol)
        return i + 1, remaining & ~close, reps.at[i].set(j.astype(jnp.int32))

    reps0 = jnp.full((capacity,), -1, dtype=jnp.int32)
    count, remaining, reps = jax.lax.while_loop(
        cond, body, (jnp.asarray(0, jnp.int32), ok, reps0)
    )
    return reps, count, jnp.any(remaining)


def _no_verbose(**kwargs) -> None:
    del kwargs


class DampedNewton(optx.AbstractGaussNewton):
    """Newton's method with a backtracking (Armijo) line search on `|F|²/2`.

    A square Gauss–Newton step is the Newton step; the line search shortens it until
    the residual decreases enough. Cheaper than a trust region per step, and on GRU
    problems it escapes the shallow valleys of `|F|²` (slow regions) where
    `optx.Dogleg` stops more often. An optional last fallback of
    [`gru_bif.find_equilibria`][] (see [`gru_bif.default_solvers`][]).

    **Arguments:**

    - `rtol`, `atol`: relative and absolute tolerances (Cauchy termination).
    - `norm`: the norm for the termination test (default `optx.max_norm`).
    - `linear_solver`: a lineax solver for the Newton step (default `lx.LU()`).
    """

    rtol: float
    atol: float
    norm: Callable
    descent: optx.NewtonDescent
    search: optx.BacktrackingArmijo
    verbose: Callable

    def __init__(
        self,
        rtol: float,
        atol: float,
        norm: Callable = optx.max_norm,
        linear_solver: lx.AbstractLinearSolver = lx.LU(),
    ):
        self.rtol = rtol
        self.atol = atol
        self.norm = norm
        self.descent = optx.NewtonDescent(linear_solver=linear_solver)
        self.search = optx.BacktrackingArmijo()
        self.verbose = _no_verbose


def default_solvers(rtol: float = 1e-10, atol: float = 1e-10) -> tuple:
    """The default root-finding chain of [`gru_bif.find_equilibria`][]: plain
    `optx.Newton` (fast where it converges), then the trust-region `optx.Dogleg` from
    the original start wherever Newton failed.

    Append [`gru_bif.DampedNewton`][] for networks with large slow regions, e.g.
    `solver=default_solvers() + (DampedNewton(1e-10, 1e-10),)`: on the homoclinic
    network at `b2 = −0.6` it raises the converged starts from 851 to 997 of 1000
    (757 to 995 from starts in (−3, 3)²; all three equilibria are found either way), at
    about 2 s more compilation.
    """
    return (optx.Newton(rtol=rtol, atol=atol), optx.Dogleg(rtol=rtol, atol=atol))


@filter_jit
def _solve_and_dedup(setup, guesses, phases, polish_steps, tol, dedup_tol, capacity):
    return _solve_and_dedup_fn(setup, guesses, phases, polish_steps, tol, dedup_tol, capacity)


def _solve_and_dedup_fn(setup, guesses, phases, polish_steps, tol, dedup_tol, capacity):
    f, residual, args = setup.f, setup.residual, setup.args

    def fn(y, a):
        return residual(0.0, y, a)

    def one(y0):
        y = y0
        ok = jnp.asarray(False)
        for solver, max_steps in phases:
            # Later phases start again from the original start where earlier ones
            # failed; where they succeeded they start at the root and stop at once.
            start = jnp.where(ok, y, y0)
            sol = optx.root_find(fn, solver, start, args, max_steps=max_steps, throw=False)
            cand = sol.value
            r_cand = _inf_norm(fn(cand, args))
            ok_cand = jnp.all(jnp.isfinite(cand)) & (r_cand < tol)
            y = jnp.where(ok, y, cand)
            ok = ok | ok_cand
        # Polish on the true vector field; the residual that decides is the true one's.
        y = _polish(f, args, y, polish_steps)
        r = _inf_norm(f(0.0, y, args))
        ok = jnp.all(jnp.isfinite(y)) & jnp.isfinite(r) & (r < tol)
        return y, r, ok

    ys, rs, ok = jax.vmap(one)(guesses)
    reps, count, truncated = _dedup(ys, ok, rs, capacity, dedup_tol)
    return ys, rs, ok, reps, count, truncated


def _describe(f, args, x, valid, hyperbolic_tol):
    """Jacobian, eigenvalues and kind of each row of `x` (rows with `valid=False` get
    NaN and kind -1)."""
    safe_x = jnp.where(valid[:, None], x, 0.0)
    jac = jax.vmap(jax.jacfwd(lambda y: f(0.0, y, args)))(safe_x)
    finite = valid & jnp.all(jnp.isfinite(jac), axis=(-2, -1))
    eig = jnp.linalg.eigvals(jnp.where(finite[:, None, None], jac, 0.0))
    eig = jnp.where(finite[:, None], eig, jnp.nan)
    kind = classify_eigenvalues(eig, hyperbolic_tol=hyperbolic_tol)
    jac = jnp.where(valid[:, None, None], jac, jnp.nan)
    return jac, eig, kind


@filter_jit
def _describe_jit(f, args, x, valid, hyperbolic_tol):
    return _describe(f, args, x, valid, hyperbolic_tol)


@filter_jit
def _find_padded(
    setup, guesses, phases, polish_steps, tol, dedup_tol, capacity, hyperbolic_tol, throw
):
    ys, rs, ok, reps, count, truncated = _solve_and_dedup(
        setup, guesses, phases, polish_steps, tol, dedup_tol, capacity
    )
    valid = reps >= 0
    idx = jnp.maximum(reps, 0)
    x = jnp.where(valid[:, None], ys[idx], jnp.nan)
    res = jnp.where(valid, rs[idx], jnp.nan)
    jac, eig, kind = _describe(setup.f, setup.args, x, valid, hyperbolic_tol)
    # Sort by type, then coordinates; padding last.
    primary = jnp.where(valid, kind, len(EQUILIBRIUM_TYPES))
    keys = tuple(jnp.where(valid, x[:, j], 0.0) for j in range(x.shape[1] - 1, -1, -1))
    order = jnp.lexsort(keys + (primary,))
    x, valid, res, jac, eig, kind = (
        a[order] for a in (x, valid, res, jac, eig, kind)
    )
    result = RESULTS.where(
        count > 0, RESULTS.successful, RESULTS.equilibrium_not_converged
    )
    if throw:
        x = result.error_if(x, result != RESULTS.successful)
    return Equilibria(
        x=x,
        valid=valid,
        residual=res,
        jacobian=jac,
        eigenvalues=eig,
        kind=kind,
        count=count,
        num_converged=jnp.sum(ok),
        num_starts=jnp.asarray(guesses.shape[0]),
        truncated=truncated,
        result=result,
    )


def _bucket(n: int) -> int:
    """Round up to a power of two (at least 16) so that host-side trimming compiles the
    Jacobian/eigenvalue stage for few distinct sizes."""
    return max(16, 1 << (max(n, 1) - 1).bit_length())


def _phases(solver, max_steps, solver_tol):
    """Normalise `solver`/`max_steps` into a tuple of (solver, max_steps) phases."""
    if solver is None:
        solvers = default_solvers(solver_tol, solver_tol)
        default_steps = (64, 256)
    elif isinstance(solver, (tuple, list)):
        solvers = tuple(solver)
        default_steps = (256,) * len(solvers)
    else:
        solvers = (solver,)
        default_steps = (256,)
    if not solvers:
        raise ValueError("`solver` is an empty sequence; pass at least one solver.")
    for s in solvers:
        if not isinstance(s, (optx.AbstractRootFinder, optx.AbstractLeastSquaresSolver)):
            raise ValueError(
                "`solver` must be an optimistix root finder or least-squares solver "
                f"(or a sequence of them); got {type(s).__name__}."
            )
    if max_steps is None:
        steps = default_steps
    elif isinstance(max_steps, (tuple, list)):
        steps = tuple(int(m) for m in max_steps)
        if len(steps) != len(solvers):
            raise ValueError(
                f"`max_steps` has {len(steps)} entries for {len(solvers)} solvers; give "
                "one int (used for every solver) or one per solver."
            )
    else:
        steps = (int(max_steps),) * len(solvers)
    if any(m < 1 for m in steps):
        raise ValueError(f"`max_steps` must be >= 1; got {max_steps}.")
    return tuple(zip(solvers, steps))


def find_equilibria(
    problem_or_f: Problem | GRU | Callable,
    args: Args = None,
    guesses: Any = None,
    *,
    key: Array | None = None,
    num_starts: int = 1000,
    box: Any = None,
    residual: Callable | None = None,
    solver: Any = None,
    tol: float | None = None,
    max_steps: int | tuple[int, ...] | None = None,
    polish_steps: int = 2,
    dedup_tol: float | None = None,
    hyperbolic_tol: float | None = None,
    max_equilibria: int | None = None,
    throw: bool = True,
) -> Equilibria:
    """Find the equilibria of a vector field from many starts in one vmapped solve.

    From every start a root finder solves `residual(x) = 0`: by default plain Newton,
    and where that fails, from the same start, the trust-region `optx.Dogleg`. A few
    Newton steps on the true vector field
    polish each result, and a point counts as an equilibrium if the true field's
    max-norm there is below `tol`. The converged points are deduplicated, and each
    distinct equilibrium gets its Jacobian, eigenvalues and type.

    **Arguments:**

    - `problem_or_f`: a `gru_bif.Problem` (its `f` and `args` are used), a
        `gru_bif.GRU` (then `args` is its constant input `u`), or a vector field
        `f(t, x, args)`.
    - `args`: the vector field's args (not with a `Problem`).
    - `guesses`: starting points, shape `(N, d)`. If omitted, `num_starts` points are
        drawn uniformly from `box` with `key`.
    - `key`: a `jax.random` key for the starts (default `PRNGKey(0)`).
    - `num_starts`: how many random starts (default 1000; 10,000 is routine in 2-D).
    - `box`: `(lo, hi)`, scalars or arrays of shape `(d,)`: where random starts are
        drawn. Default `(-1, 1)`, which for a GRU holds every equilibrium. For a plain
        vector field without `guesses`, give `lo`/`hi` of shape `(d,)`.
    - `residual`: a function `r(t, x, args)` with the same zeros as the vector field,
        to root-find on. Default: the vector field itself, or for a GRU `ĥ(h) − h`
        (`gru_bif.models.gru.gru_candidate_residual`), on which Newton does not stall
        where the update gate saturates.
    - `solver`: an optimistix root finder or least-squares solver, or a sequence of
        them tried in turn (each from the original start, only where the previous
        failed). Default [`gru_bif.default_solvers`][]`(rtol, atol)`: Newton, then
        Dogleg. Measured on 1000 random starts in (−1, 1)²: on the limit-cycle GRU
        `U_h = 3R(π/6)` plain Newton converges from 370 (42 in (−3, 3)²), Dogleg and
        Levenberg–Marquardt from all 1000; at the non-hyperbolic point of the
        pseudo-line attractor Newton from 620 and Dogleg from all, while
        Levenberg–Marquardt creeps so slowly that its 1000 end points (all with
        `|f| < tol`) form 250 near-duplicates; on a 64-unit GRU with saturated update gates Newton on `ĥ − h` from
        all 1000 in ≤ 26 steps, Dogleg from 93 % (on the full vector field Newton
        from none of 200, Dogleg from 9, Levenberg–Marquardt from 21).
    - `tol`: the max-norm of the true vector field below which a point is an
        equilibrium (default 1e-8 in float64, 1e-4 in float32). The default solvers'
        `rtol`/`atol` are 1e-10 (1e-5 in float32).
    - `max_steps`: the most iterations per start of each solver: an int, or one per
        solver. Default 64 for Newton and 256 for Dogleg.
    - `polish_steps`: Newton steps on the true vector field after each solve (a step
        is kept only if it lowers the residual).
    - `dedup_tol`: two points closer than this in max-norm are the same equilibrium
        (default 1e-6 in float64, 1e-3 in float32). Near a non-hyperbolic equilibrium
        `|f| < tol` holds on a whole neighbourhood (e.g. within `(tol/c)^(1/3)` of a
        cubic degeneracy), so a slowly converging solver can leave near-duplicates:
        raise `dedup_tol` there.
    - `hyperbolic_tol`: see [`gru_bif.classify`][].
    - `max_equilibria`: `None` (default) returns exactly the equilibria found (sorted by
        type, then coordinates), which needs concrete values (not under `jit`/`vmap`).
        An int `K` returns arrays of fixed capacity `K`, NaN-padded, with a `count`:
        use this under `jax.jit` / `jax.vmap` (e.g. over networks).
    - `throw`: raise if no start converged. Under `jax.vmap` pass `throw=False` and
        read `Equilibria.result` instead.

    **Returns:**

    An [`gru_bif.Equilibria`][].

    **Raises:**

    `ValueError` for guesses of the wrong dimension or with NaN/inf, a bad `box`, a
    vector field whose output shape differs from the state's, or (with
    `max_equilibria=None`) a call under `jit`/`vmap`. With `throw=True`, an error
    when no start converged.

    !!! example

        ```python
        gru = gru_bif.GRU(3.0 * jnp.eye(2))
        eq = gru_bif.find_equilibria(gru)
        eq.counts()   # {'stable node': 4, 'unstable node': 1, 'saddle': 4}
        ```
    """
    setup = _setup(problem_or_f, args, residual)
    guesses = _make_guesses(setup, guesses, key, num_starts, box)
    _check_dims(setup, guesses)
    dtype = guesses.dtype
    solver_tol, res_tol, dd_tol = _default_tols(dtype)
    tol = res_tol if tol is None else float(tol)
    dedup_tol = dd_tol if dedup_tol is None else float(dedup_tol)
    if not tol > 0 or not dedup_tol >= 0:
        raise ValueError(
            f"`tol` must be positive and `dedup_tol` non-negative; got tol={tol}, "
            f"dedup_tol={dedup_tol}."
        )
    if int(polish_steps) < 0:
        raise ValueError(f"`polish_steps` must be >= 0; got {polish_steps}.")
    phases = _phases(solver, max_steps, solver_tol)
    hyperbolic_tol = (
        _default_hyperbolic_tol(dtype) if hyperbolic_tol is None else float(hyperbolic_tol)
    )
    n = guesses.shape[0]
    if max_equilibria is not None:
        if int(max_equilibria) < 1:
            raise ValueError(
                f"`max_equilibria` must be a positive int (or None); got {max_equilibria}."
            )
        return _find_padded(
            setup, guesses, phases, int(polish_steps), tol, dedup_tol,
            int(max_equilibria), hyperbolic_tol, throw,
        )
    if not _concrete(guesses, setup.args):
        raise ValueError(
            "find_equilibria with max_equilibria=None returns as many points as it "
            "finds, which needs concrete values; under jax.jit/jax.vmap pass "
            "max_equilibria=K (a fixed capacity) and throw=False."
        )
    # concrete inputs: gru_bif's program cache (kept on disk when it is switched on)
    from .. import _programs

    ys, rs, ok, reps, count, truncated = _programs.compiled(
        _solve_and_dedup_fn, setup, guesses, phases, int(polish_steps), tol, dedup_tol, n
    )
    k = int(count)
    num_converged = jnp.asarray(int(np.sum(np.asarray(ok))))
    if k == 0:
        result = RESULTS.equilibrium_not_converged
        if throw:
            raise RuntimeError(
                f"find_equilibria: no equilibrium found from {n} starts. "
                + RESULTS[result]
                + " (Pass throw=False to get an empty result instead.)"
            )
    else:
        result = RESULTS.successful
    # Jacobians and eigenvalues only for the distinct points, padded to a bucket size
    # so that few shapes compile; trimming and sorting in NumPy (no eager JAX ops).
    cap = _bucket(k)
    idx = np.asarray(reps)[:k]
    ys_np = np.asarray(ys)
    x_pad = np.zeros((cap, ys_np.shape[1]), ys_np.dtype)
    x_pad[:k] = ys_np[idx]
    valid_pad = np.arange(cap) < k
    jac, eig, kind = (
        np.asarray(a)[:k]
        for a in _programs.compiled(
            _describe, setup.f, setup.args, x_pad, valid_pad, hyperbolic_tol
        )
    )
    x_np = x_pad[:k]
    keys = tuple(x_np[:, j] for j in range(x_np.shape[1] - 1, -1, -1)) + (kind,)
    order = np.lexsort(keys)
    return Equilibria(
        x=jnp.asarray(x_np[order]),
        valid=jnp.asarray(np.ones((k,), bool)),
        residual=jnp.asarray(np.asarray(rs)[idx][order]),
        jacobian=jnp.asarray(jac[order]),
        eigenvalues=jnp.asarray(eig[order]),
        kind=jnp.asarray(kind[order]),
        count=jnp.asarray(k),
        num_converged=num_converged,
        num_starts=jnp.asarray(n),
        truncated=jnp.asarray(False),
        result=result,
    )


