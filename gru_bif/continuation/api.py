"""Front door: `continuation(problem, x0, p0, ...) -> Branch`."""

import inspect
import warnings
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._results import RESULTS
from .._util import concrete as _concrete, default_tol as _default_tol, is_concrete as _is_concrete
from .._util import stop_gradient_tree
from ..branch import Branch
from ..problem import Problem
from .engine import (
    AbstractContinuationAlgorithm,
    ContinuationState,
    PseudoArclength,
    _continuation_jit,
    _finish_at_bound,
    _init,
    _Settings,
    _StaticSettings,
    _step,
    assemble_branch,
    rows_of,
)
from .problems import AbstractContinuationProblem, EquilibriumProblem
from .programs import continuation_programs

_FATAL = ("start_not_converged", "singular_start", "nonfinite_vector_field")


def build_continuation(
    problem,
    x0,
    p0,
    *,
    p_min,
    p_max,
    ds,
    ds_min,
    ds_max,
    max_steps,
    tol,
    max_newton,
    target_newton,
    max_angle,
    max_special_points,
    algorithm,
    hopf,
    stability,
):
    """The validated pieces of a continuation run: `(cp, u0, settings, static)` — the
    continuation problem (an `EquilibriumProblem` for a `gru_bif.Problem`), the start
    `(x0, p0)` as one vector, and the engine's settings. Every knob is checked here, with
    the messages of `continuation`; used by `continuation`, `ContinuationIterator` and
    drivers that run the engine's programs themselves (`gru_bif.periodic.continue_cycles`).
    """
    if isinstance(problem, Problem):
        cp = EquilibriumProblem(problem, hopf=hopf, stability=stability)
    elif isinstance(problem, AbstractContinuationProblem):
        cp = problem
    else:
        raise ValueError(
            "`problem` must be a gru_bif.Problem (equilibria) or an "
            f"AbstractContinuationProblem; got {type(problem).__name__}."
        )
    if max_steps < 1:
        raise ValueError(f"max_steps={max_steps}; it must be at least 1.")
    if max_special_points < 1:
        raise ValueError(f"max_special_points={max_special_points}; use at least 1.")
    if not isinstance(algorithm, AbstractContinuationAlgorithm):
        raise ValueError(
            "`algorithm` must be gru_bif.PseudoArclength() or gru_bif.Natural(); got "
            f"{algorithm!r}."
        )
    # concrete starts stay NumPy arrays (no eager device operations on the hot path)
    x0 = np.asarray(x0) if _concrete(x0) is not None else jnp.asarray(x0)
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        x0 = x0.astype(jnp.result_type(float))
    x0 = x0.astype(jax.dtypes.canonicalize_dtype(x0.dtype))  # float32 unless x64 is on
    if x0.ndim == 0:
        x0 = x0[None]
    if x0.ndim != 1:
        raise ValueError(
            f"x0 must be a state vector of shape (d,); got shape {x0.shape}. To continue "
            "many systems, jax.vmap over continuation."
        )
    dtype = x0.dtype
    if p0 is None:
        p0 = cp.problem.p if isinstance(cp, EquilibriumProblem) else None
        if p0 is None:
            raise ValueError("Give the start parameter value `p0`.")
    p0 = p0 if _concrete(p0) is None else np.asarray(p0, dtype)
    if tol is None:
        tol = _default_tol(dtype)
    eps = float(jnp.finfo(dtype).eps)
    tol_c = _concrete(tol)
    if tol_c is not None and (np.ndim(tol_c) != 0 or not np.isfinite(tol_c) or tol_c <= 0):
        raise ValueError(
            f"tol={tol_c}: the Newton tolerance must be a positive finite number (default "
            f"{_default_tol(dtype):.3g} in {jnp.dtype(dtype).name})."
        )
    if tol_c is not None and float(tol_c) < 10 * eps:
        new_tol = _default_tol(dtype)
        advice = (
            " Enable float64 (jax.config.update('jax_enable_x64', True)) for tighter "
            "tolerances."
            if jnp.finfo(dtype).bits < 64
            else ""
        )
        warnings.warn(
            f"tol={float(tol_c):.3g} cannot be reached in {jnp.dtype(dtype).name} "
            f"(machine epsilon {eps:.3g}); using tol={new_tol:.3g} instead.{advice}",
            stacklevel=3,
        )
        tol = new_tol
    checks = [_concrete(v) for v in (p0, p_min, p_max, ds)]
    if all(c is not None for c in checks):
        p0c, pmin, pmax, dsc = (float(c) for c in checks)
        if not pmin < pmax:
            raise ValueError(f"p_min={pmin} must be below p_max={pmax}.")
        if not pmin <= p0c <= pmax:
            raise ValueError(
                f"p0={p0c} lies outside [p_min, p_max] = [{pmin}, {pmax}]; widen the "
                "range or start inside it."
            )
        if dsc == 0 or not np.isfinite(dsc):
            raise ValueError(
                f"ds={dsc}: the step must be a finite non-zero number; its sign picks "
                "the direction (or use direction='both')."
            )
        x0c = _concrete(x0)
        if x0c is not None and not np.all(np.isfinite(x0c)):
            raise ValueError(f"x0 contains NaN or inf: {x0c}.")
    given = {"ds_min": ds_min is not None, "ds_max": ds_max is not None}
    if ds_max is None:
        ds_max = 10 * abs(ds)
    if ds_min is None:
        ds_min = (1e-6 if jnp.finfo(dtype).bits >= 64 else 1e-3) * abs(ds)
    bounds = {"ds_min": _concrete(ds_min), "ds_max": _concrete(ds_max)}
    if all(v is not None for v in bounds.values()):
        said = {
            k: f"{k}={float(v):.6g}" + ("" if given[k] else " (the default, from ds)")
            for k, v in bounds.items()
        }
        for k, v in bounds.items():
            if np.ndim(v) != 0 or not np.isfinite(v) or v <= 0:
                raise ValueError(f"{k}={v}: the step bounds must be positive and finite.")
        if float(bounds["ds_min"]) > float(bounds["ds_max"]):
            raise ValueError(
                f"{said['ds_min']} is larger than {said['ds_max']}; the adaptive step "
                "stays in [ds_min, ds_max], so ds_min must not exceed ds_max."
            )
    from .problems import check_residual_shape

    check_residual_shape(cp, x0.shape[0], dtype)

    def arr(v):
        # NumPy values travel with the call (no separate transfer); tracers stay.
        return np.asarray(v, dtype) if _concrete(v) is not None else jnp.asarray(v, dtype)

    settings = _Settings(
        p_min=arr(p_min),
        p_max=arr(p_max),
        ds=arr(abs(ds)),
        ds_min=arr(ds_min),
        ds_max=arr(ds_max),
        tol=arr(tol),
        cos_max_angle=arr(np.cos(max_angle)),
    )
    static = _StaticSettings(
        max_steps=int(max_steps),
        max_newton=int(max_newton),
        target_newton=int(target_newton),
        max_special_points=int(max_special_points),
        max_locate_iterations=60,
        algorithm=algorithm,
    )
    if isinstance(x0, np.ndarray) and isinstance(p0, np.ndarray):
        u0 = np.concatenate([x0, np.reshape(p0, (1,)).astype(dtype)])
    else:
        u0 = jnp.concatenate([x0, jnp.reshape(p0, (1,)).astype(dtype)])
    return cp, u0, settings, static


def continuation(
    problem: "Problem | AbstractContinuationProblem",
    x0,
    p0=None,
    *,
    p_min,
    p_max,
    ds: float = 0.01,
    ds_min=None,
    ds_max=None,
    max_steps: int = 500,
    direction: "Literal['forward', 'backward', 'both'] | int" = "forward",
    tol=None,
    max_newton: int = 8,
    target_newton: int = 3,
    max_angle: float = 0.6,
    max_special_points: int = 16,
    algorithm: AbstractContinuationAlgorithm = PseudoArclength(),
    hopf: str = "auto",
    stability: bool = True,
    tangent0=None,
    throw: bool = True,
) -> Branch:
    """Continue a branch of equilibria (or of any `AbstractContinuationProblem`) in one
    parameter, detecting and locating folds, Hopf points and branch points.

    **Arguments:**

    - `problem`: a `gru_bif.Problem` (equilibria of `f(t, x, args)` in `problem.param`)
        or any `AbstractContinuationProblem`.
    - `x0`: a state at (or near) an equilibrium at `p0`; corrected by Newton first.
    - `p0`: the start parameter value (default: the current value in `problem.args`).
    - `p_min`, `p_max`: the branch stops when the parameter leaves this range; the last
        point is placed exactly on the bound.
    - `ds`: initial arclength step; its sign chooses the direction (increasing `p` for
        `ds > 0`) unless `direction` says otherwise. `ds_min` (default `1e-6|ds|`) and
        `ds_max` (default `10|ds|`) bound the adaptive step; both must be positive and
        finite with `ds_min ≤ ds_max` (else a `ValueError`).
    - `max_steps`: capacity: at most this many steps per direction. Outputs have
        `max_steps + 1` rows (`2 max_steps + 1` for `direction="both"`), NaN-padded.
    - `direction`: `"forward"` (sign of `ds`), `"backward"`, or `"both"`.
    - `tol`: Newton tolerance on the step (default 1e-10 in float64, 1e-5 in float32;
        a value below what the dtype can reach is raised with a warning; zero, negative
        or non-finite is a `ValueError`).
    - `max_newton`, `target_newton`: Newton iterations allowed per step, and the number
        the step-size control aims at (fewer: grow ds ×1.5; more: shrink ×0.6).
    - `max_angle`: largest angle (radians) between successive tangents; steps that turn
        more are rejected and retried smaller.
    - `max_special_points`: capacity of `branch.special`.
    - `algorithm`: `PseudoArclength()` (default; `secant=True` for a secant predictor)
        or `Natural()`.
    - `hopf`: Hopf test: `"auto"`, `"bialternate"`, `"eigen"` or `"off"`.
    - `stability`: count unstable eigenvalues at every point (off for throughput).
    - `tangent0`: optional start direction in `(x, p)` space, shape `(d + 1,)`. The
        start point is then corrected on the hyperplane through `(x0, p0)` orthogonal
        to it (instead of at fixed `p0`), and the branch leaves along it — used for
        branch switching and for starting on vertical branches.
    - `throw`: raise if the branch could not start (start point not an equilibrium,
        singular, or NaN). Under `jax.vmap`, pass `throw=False` and read
        `branch.result` per element.

    The start is corrected by Newton at fixed `p0` (or on the hyperplane of
    `tangent0`); if plain Newton does not converge, a damped Newton (backtracking on the
    residual norm) tries again from the same start.

    **Returns:** a `gru_bif.Branch`. Stop reasons other than leaving the range (closed
    branch, `max_steps`, corrector failure) are reported in `branch.result` and, when
    not traced, as a warning.

    **Raises:** `ValueError` for bad static input (p0 outside the range, zero step,
    shapes); a runtime error (with `throw=True`) if the start fails.

    Calls with new values (parameters, start, range, step sizes, tolerances) but the
    same shapes, the same `f` and the same static options reuse the compiled code. With
    concrete inputs the call runs as separate programs (the loop; the location of
    flagged points; the data of each kind found), kept on disk across processes after
    `gru_bif.set_program_cache`; under a user's `jit` or `vmap` it is one traced
    program with the same results. Under an eager `jax.grad`, `jax.jvp` or
    `jax.jacfwd` the separate programs run on the values, and one more program attaches
    the implicit derivatives (for the kinds of point found only).
    """
    if direction in ("forward", 1, +1):
        dirs = (1.0,)
    elif direction in ("backward", -1):
        dirs = (-1.0,)
    elif direction == "both":
        dirs = (1.0, -1.0)
    else:
        raise ValueError(
            f"direction={direction!r}; use 'forward', 'backward' or 'both'."
        )
    ds_c = _concrete(ds)
    if ds_c is not None and float(ds_c) < 0 and direction != "both":
        dirs = (-dirs[0],)
    cp, u0, settings, static = build_continuation(
        problem,
        x0,
        p0,
        p_min=p_min,
        p_max=p_max,
        ds=ds,
        ds_min=ds_min,
        ds_max=ds_max,
        max_steps=max_steps,
        tol=tol,
        max_newton=max_newton,
        target_newton=target_newton,
        max_angle=max_angle,
        max_special_points=max_special_points,
        algorithm=algorithm,
        hopf=hopf,
        stability=stability,
    )
    if tangent0 is not None:
        tangent0 = jnp.asarray(tangent0, u0.dtype)
        if tangent0.shape != u0.shape:
            raise ValueError(
                f"tangent0 has shape {tangent0.shape}; it must have shape {u0.shape} "
                "(state and parameter)."
            )
    concrete = _is_concrete((cp, u0, settings, tangent0))
    ng = None if concrete else stop_gradient_tree((cp, u0, settings, tangent0))
    if concrete:
        # concrete inputs: small programs, compiled once per system and shared
        branch = continuation_programs(cp, u0, settings, static, dirs, tangent0)
    elif _is_concrete(ng):
        # only autodiff tracers over concrete values (an eager `jax.grad`, `jvp`,
        # `jacfwd`): the run as concrete programs, implicit derivatives attached after
        branch = continuation_programs(*ng[:3], static, dirs, ng[3], cp_diff=cp)
        return _check(branch, throw, ng[0], ng[1])
    else:
        # under a user's jit / vmap: one traced program
        branch = _continuation_jit(cp, u0, settings, static, dirs, tangent0)
    return _check(branch, throw, cp, u0)


def start_failed(result):
    """Whether a branch's result code says its start failed (no converged first point,
    a singular start, or a non-finite vector field): the branch holds no solution."""
    fatal = jnp.zeros((), bool)
    for name in _FATAL:
        fatal = fatal | (result == getattr(RESULTS, name))
    return fatal


def _check(branch: Branch, throw: bool, cp=None, u0=None) -> Branch:
    """Raise if the branch could not start (`throw=True`), warn if it stopped early.

    The compiled function itself never raises: a runtime error inside it would be a
    host callback, and JAX does not store programs with host callbacks in the
    persistent compilation cache. So the check happens here, on the host, when the
    result is concrete; under a user's `jit`/`vmap` it is threaded with
    `error_if` into the user's program instead."""
    value = _concrete(branch.result._value)
    if value is None or np.ndim(value) != 0:
        if throw and value is None:
            fatal = start_failed(branch.result) & (branch.num_points <= 1)
            branch = eqx.tree_at(
                lambda b: b.p, branch, branch.result.error_if(branch.p, fatal)
            )
        return branch
    if value is not None and np.ndim(value) == 0:
        code = int(value)
        if throw and int(branch.num_points) <= 1:
            for name in _FATAL:
                item = getattr(RESULTS, name)
                if code == int(item._value):
                    where = ""
                    if cp is not None and u0 is not None:
                        r = np.asarray(cp.residual(u0))
                        where = (
                            f" At the given start x0 = {np.asarray(u0[:-1])}, "
                            f"p0 = {float(u0[-1])} the residual max|F| is "
                            f"{np.max(np.abs(r)):.3g}."
                        )
                    raise RuntimeError(
                        f"continuation could not start: {RESULTS[item]}{where}"
                    )
        for name in ("corrector_failed", "max_steps_reached_continuation"):
            if code == int(getattr(RESULTS, name)._value):
                warnings.warn(
                    f"continuation stopped early after {int(branch.num_points)} points: "
                    + RESULTS[getattr(RESULTS, name)],
                    stacklevel=3,
                )
    return branch


#: `continuation`'s keyword defaults, shared by `ContinuationIterator` (one source)
_ITERATOR_KEYWORDS = {
    name: par.default
    for name, par in inspect.signature(continuation).parameters.items()
    if par.kind is inspect.Parameter.KEYWORD_ONLY
    and par.default is not inspect.Parameter.empty
    and name not in ("direction", "tangent0", "throw")
}


class ContinuationIterator:
    """Manual stepping for notebooks: `it = ContinuationIterator(problem, x0, p0, ...)`
    (same keywords as `continuation`, one direction), then `state = it.step()` as often
    as wanted; `it.state.u` is the current point `(x, p)`, `it.branch()` the result so
    far with special points located. Each step is one compiled call."""

    def __init__(self, problem, x0, p0=None, *, direction=1.0, **kwargs):
        allowed = set(_ITERATOR_KEYWORDS) | {"p_min", "p_max"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise ValueError(
                f"ContinuationIterator got unknown keywords {sorted(unknown)}; it takes "
                f"`direction` and {sorted(allowed)} (as `continuation`)."
            )
        settings = {**_ITERATOR_KEYWORDS, **kwargs}
        self._cp, u0, self._settings, self._static = build_continuation(
            problem, x0, p0, **settings
        )
        self._direction = jnp.asarray(direction, u0.dtype)
        self.state: ContinuationState = _init_jit(
            self._cp, u0, self._direction, self._settings, self._static
        )

    def step(self) -> ContinuationState:
        if not bool(self.state.done):
            self.state = _step_jit(self._cp, self.state, self._settings, self._static)
        return self.state

    def __iter__(self):
        while not bool(self.state.done):
            yield self.step()

    def branch(self) -> Branch:
        """The branch so far, as `continuation` would return it for the same steps:
        special points located, statistics, implicit derivatives on the points."""
        return _branch_jit(self._cp, self.state, self._settings, self._static)


@filter_jit
def _init_jit(cp, u0, direction, settings, static):
    return _init(cp, u0, direction, settings, static)


@filter_jit
def _step_jit(cp, state, settings, static):
    return _step(cp, state, settings, static)


@filter_jit
def _branch_jit(cp, state, settings, static):
    st = stop_gradient_tree(_finish_at_bound(stop_gradient_tree(cp), state, settings, static))
    return assemble_branch(cp, *rows_of(st), settings, static)
