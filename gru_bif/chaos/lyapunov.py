"""Lyapunov spectra of trajectories (Benettin's method) and chaos maps over parameter grids.

**Method.** After a transient `t_transient` (the state alone), the state `x` and an
orthonormal `d × k` frame `Q` are integrated together,

    x' = f(t, x, args),        Q' = J(t, x) Q,      J = ∂f/∂x,

over `num_blocks` blocks of length `dt_reorth` (one `diffrax.diffeqsolve` per block, the
blocks in a `lax.scan`). After each block the frame is re-orthonormalised, `Y = Q R`
(Householder QR, with the signs fixed so that `diag R > 0`), and `log R_ii` is the
stretching of the `i`-th direction during the block. The exponents are the time averages

    λ_i = (1 / (num_blocks · dt_reorth)) Σ_blocks log R_ii,

(Benettin, Galgani, Giorgilli & Strelcyn 1980; Shimada & Nagashima 1979). `J Q` is never
formed as a dense Jacobian: `jax.linearize` evaluates `f` once per right-hand side and
pushes the `k` columns of `Q` through its linearisation (`k` JVPs), so `k < d` costs less.

**Solver.** By default a fixed step: `diffrax.Tsit5()` with `diffrax.ConstantStepSize()`
and a step of at most `dt0`, evenly dividing each block. Why fixed: (i) an exponent is a
time average whose statistical error (`~ 1/√T` on a chaotic attractor) dwarfs a
fifth-order local error once the step resolves the fastest time scale, (ii) every lane of
a `vmap` (a chaos map, a batch of initial states) then takes the same steps, so no lane
waits for another, (iii) the result is a smooth function of the parameters (no step-size
decisions to differentiate through), which `largest_lyapunov`'s gradient needs, and
(iv) `max_steps` is known in advance. Pass `stepsize_controller=diffrax.PIDController(...)`
for an adaptive run (then `max_steps` bounds each block's steps), or another `solver`
(e.g. an implicit one for a stiff system).

**Choosing the times.** `dt0` must resolve the fastest time scale (Lorenz: `0.01`);
`dt_reorth` must keep the frame's columns distinguishable before each QR: their ratio grows
like `exp((λ1 − λk) dt_reorth)`, so keep `(λ1 − λk) · dt_reorth` below about 8 in float32
and 18 in float64 (Lorenz: `dt_reorth = 0.5` gives 7.7). `t_total` sets the statistical
error on a chaotic attractor (Lorenz: about `0.01` at `t_total = 1000`: an error
estimate of 0.009 and three starts within 0.006 of the published 0.9056).

**Convergence estimate** (`LyapunovSpectrum.error`): the larger of (a) the standard error
of the mean of `min(10, num_blocks)` equal batches of blocks (batch means; the statistical
error of a time average) and (b) the change from the whole-run estimate to the
second-half estimate (the `O(1/T)` bias from the frame's initial alignment, which dominates
on equilibria and limit cycles; `t_align` removes it: the Hopf normal form's cycle gives
`(0, −2p)` to `1e-9` with `t_align = 20`, to `4e-3` without, at `t_total = 400`). It is a
scale, not a bound: read `|λ| < 3 · error` as "compatible with zero".

**Precision.** In float64 the sum of the exponents matches the time average of `tr J` to
the integrator's accuracy (Lorenz: `1e-7` at `dt0 = 0.01`). In float32 the block logs
carry relative rounding errors of about `1e-7` per block, and on a chaotic attractor the
float32 trajectory soon separates from the float64 one (rounding errors grow like
`exp(λ1 t)`), so float32 exponents agree with float64 only statistically (Lorenz at
`t_total = 1000`: all three within about `0.01` of the published values, the sum within
`1e-3`; measured 4e-4). Times are
carried in the state's dtype (Diffrax would otherwise promote the state), so in float32
a non-autonomous field sees `t` rounded to about `1e-7 · (t_transient + t_total)`.

**Gradients.** `largest_lyapunov` (and every field here) is differentiable by autodiff
through the finite-horizon computation. Where `λ1` depends smoothly on the parameters
(an attracting equilibrium or limit cycle, a linear system) the finite-horizon gradient
converges to the true one like `1/T`. On a chaotic attractor it does not converge: its
variance grows with `T` (Lea, Allen & Haine 2000) — use it there only for short horizons,
as a rough, noisy signal.
"""

import math
from collections.abc import Callable
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Args, Array, Bool, Float, Int
from .._results import RESULTS
from ..models.gru import GRU
from ..problem import Problem
from ..simulate import resolve_field


class LyapunovSpectrum(eqx.Module):
    """The result of [`gru_bif.chaos.lyapunov_spectrum`][].

    **Fields:**

    - `exponents`: the `k` largest Lyapunov exponents, sorted descending, shape `(k,)`.
    - `error`: a convergence estimate per exponent, shape `(k,)` (see the module
        docstring: batch-means standard error or the first-half bias, whichever is
        larger; `NaN` with a single block).
    - `history`: the running estimates after each re-orthonormalisation block, shape
        `(num_blocks, k)` (row `j` averages blocks `0 … j`); columns in the order of
        `exponents`. Its last row equals `exponents`.
    - `times`: the averaging time (since the end of the transient and alignment) at the
        end of each block,
        shape `(num_blocks,)`.
    - `x_final`: the state at the end of the run, shape `(d,)`.
    - `result`: a [`gru_bif.RESULTS`][] code.
    - `num_steps`: solver steps taken (transient and blocks), shape `()`.

    Under `jax.vmap` every field gains a leading batch axis.
    """

    exponents: Float[Array, " k"]
    error: Float[Array, " k"]
    history: Float[Array, "num_blocks k"]
    times: Float[Array, " num_blocks"]
    x_final: Float[Array, " d"]
    result: RESULTS
    num_steps: Int[Array, ""]

    @property
    def sum(self) -> Float[Array, ""]:
        """The sum of the computed exponents (with `k = d`: the time average of the
        divergence `tr J`)."""
        return jnp.sum(self.exponents, axis=-1)

    @property
    def successful(self) -> Bool[Array, ""]:
        """`True` where the computation succeeded."""
        return self.result == RESULTS.successful

    @property
    def kaplan_yorke_dimension(self) -> Float[Array, ""]:
        """The Kaplan–Yorke (Lyapunov) dimension `j + (λ1 + … + λj) / |λ_{j+1}|`, `j` the
        largest index with a non-negative partial sum (`0` if `λ1 < 0`; `k` if every
        partial sum is non-negative, which with `k < d` means "at least k")."""
        lam = self.exponents
        k = lam.shape[-1]
        partial = jnp.cumsum(lam, axis=-1)
        j = jnp.sum(partial >= 0, axis=-1)  # partial sums decrease once λ_i < 0
        s_j = jnp.take_along_axis(
            jnp.concatenate([jnp.zeros_like(partial[..., :1]), partial], axis=-1),
            j[..., None], axis=-1)[..., 0]
        nxt = jnp.take_along_axis(lam, jnp.minimum(j, k - 1)[..., None], axis=-1)[..., 0]
        frac = jnp.where(j < k, s_j / jnp.abs(nxt), 0.0)
        return j.astype(lam.dtype) + frac


# ------------------------------------------------------------------------ helpers
def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _positive(name: str, value, *, allow_zero: bool = False, fix: str = "") -> float:
    try:
        v = float(value)
    except Exception as e:  # a tracer, a string, None
        raise ValueError(
            f"`{name}` must be a Python number (it fixes the number of blocks and steps, "
            f"i.e. array shapes); got {value!r}. Pass it outside jit/vmap."
        ) from e
    ok = math.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"`{name}` must be finite and {bound}; got {value!r}. {fix}".rstrip())
    return v


def _check_state(x0) -> Array:
    x0 = jnp.asarray(x0)
    if not jnp.issubdtype(x0.dtype, jnp.inexact):
        x0 = x0.astype(jnp.result_type(float))
    if x0.ndim != 1 or x0.shape[0] == 0:
        raise ValueError(
            f"`x0` must be one state of shape (d,) with d ≥ 1; got shape {x0.shape}. For "
            "many initial states use `jax.vmap` (with throw=False) or `chaos_map`."
        )
    if _is_concrete(x0) and not np.all(np.isfinite(np.asarray(x0))):
        raise ValueError("`x0` contains NaN or inf; pass a finite initial state.")
    return x0


def _check_field(f, x0, args) -> None:
    d = x0.shape[0]
    try:
        out = jax.eval_shape(lambda x: f(0.0, x, args), jax.ShapeDtypeStruct((d,), x0.dtype))
    except Exception as e:  # a shape mismatch inside f
        raise ValueError(
            f"The vector field cannot be evaluated at a state of shape ({d},): "
            f"{str(e).rstrip('.')}. Check that `x0` has the system's dimension."
        ) from e
    if getattr(out, "shape", None) != (d,):
        raise ValueError(
            f"The vector field returns shape {getattr(out, 'shape', None)} for a state of "
            f"shape ({d},); `x0` must have the system's dimension."
        )


def _initial_frame(d: int, k: int, dtype) -> np.ndarray:
    """A fixed, generic orthonormal `d × k` frame (QR of a seeded Gaussian matrix): the
    identity's columns can lie in an invariant subspace of a symmetric system."""
    g = np.random.default_rng(20260).standard_normal((d, k))
    q, r = np.linalg.qr(g)
    return (q * np.sign(np.diag(r))).astype(dtype)


class _Plan(eqx.Module):
    """The static shape of a run: blocks, steps per block, their length."""

    num_blocks: int = eqx.field(static=True)
    block: float = eqx.field(static=True)
    substeps: int = eqx.field(static=True)
    t_transient: float = eqx.field(static=True)
    transient_steps: int = eqx.field(static=True)
    align_blocks: int = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    adaptive: bool = eqx.field(static=True)


def _plan(t_transient, t_align, t_total, dt_reorth, dt0, max_steps, controller) -> _Plan:
    t_total = _positive("t_total", t_total, fix="The exponents are averages over t_total.")
    t_transient = _positive("t_transient", t_transient, allow_zero=True)
    t_align = _positive("t_align", t_align, allow_zero=True)
    dt_reorth = _positive("dt_reorth", dt_reorth)
    dt0 = _positive("dt0", dt0)
    if dt_reorth > t_total:
        raise ValueError(
            f"`dt_reorth` ({dt_reorth}) is longer than `t_total` ({t_total}); use a "
            "dt_reorth of a fraction of t_total (many blocks give the convergence "
            "estimate)."
        )
    num_blocks = max(1, round(t_total / dt_reorth))
    block = t_total / num_blocks
    substeps = max(1, math.ceil(block / dt0 - 1e-9))
    transient_steps = math.ceil(t_transient / dt0 - 1e-9) if t_transient > 0 else 0
    align_blocks = math.ceil(t_align / block - 1e-9) if t_align > 0 else 0
    adaptive = not isinstance(controller, diffrax.ConstantStepSize)
    if max_steps is None:
        max_steps = 4096 if adaptive else substeps + 1
    elif not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"`max_steps` must be a positive int; got {max_steps!r}.")
    if not adaptive and max_steps < substeps:
        raise ValueError(
            f"`max_steps` ({max_steps}) is smaller than the {substeps} fixed steps of a "
            "block; leave max_steps=None or raise it."
        )
    return _Plan(num_blocks, block, substeps, t_transient, transient_steps, align_blocks,
                 max_steps, adaptive)


def _convergence(logs: Array, block: float) -> Array:
    """Batch-means standard error and first-half bias of the block averages `logs`
    (shape `(n, k)`); their maximum, per exponent."""
    n = logs.shape[0]
    lam = jnp.mean(logs, axis=0) / block
    if n < 2:
        return jnp.full_like(lam, jnp.nan)
    nb = min(10, n)
    per = n // nb
    batches = jnp.mean(logs[n - nb * per:].reshape(nb, per, -1), axis=1) / block
    se = jnp.std(batches, axis=0, ddof=1) / math.sqrt(nb)
    half = jnp.abs(jnp.mean(logs[n // 2:], axis=0) / block - lam)
    return jnp.maximum(se, half)


@filter_jit
def _spectrum(f, x0, args, q0, plan: _Plan, solver, controller, adjoint, throw):
    dtype = x0.dtype
    h = plan.block / plan.substeps

    def solve(term, y0, t0, t1, steps):
        # times in the state's dtype: Diffrax promotes the state to the times' dtype
        t0, t1, dt = (jnp.asarray(a, dtype) for a in (t0, t1, h))
        sol = diffrax.diffeqsolve(
            term, solver, t0=t0, t1=t1, dt0=dt,
            y0=y0, args=args, stepsize_controller=controller,
            max_steps=plan.max_steps if plan.adaptive else steps + 1,
            saveat=diffrax.SaveAt(t1=True), adjoint=adjoint, throw=False,
        )
        y1 = jax.tree_util.tree_map(lambda a: a[-1], sol.ys)
        return y1, sol.result, sol.stats["num_steps"]

    # transient: the state alone
    ok = jnp.array(True)
    num_steps = jnp.array(0)
    x = x0
    if plan.transient_steps:
        x, res, n = solve(diffrax.ODETerm(f), x0, 0.0, plan.t_transient,
                          plan.transient_steps)
        ok = ok & (res == diffrax.RESULTS.successful)
        num_steps = num_steps + n

    def variational(t, y, args):
        x, Q = y
        fx, jvp = jax.linearize(lambda x_: f(t, x_, args), x)
        return fx, jax.vmap(jvp, in_axes=1, out_axes=1)(Q)

    term = diffrax.ODETerm(variational)

    def block(carry, j):
        x, Q, ok, num_steps = carry
        t0 = plan.t_transient + j * plan.block
        (x1, Y), res, n = solve(term, (x, Q), t0, t0 + plan.block, plan.substeps)
        Qn, R = jnp.linalg.qr(Y)
        diag = jnp.diagonal(R)
        sign = jnp.where(diag < 0, -1.0, 1.0).astype(dtype)
        logs = jnp.log(jnp.abs(diag))
        ok = ok & (res == diffrax.RESULTS.successful)
        return (x1, Qn * sign, ok, num_steps + n), logs

    j = jnp.arange(plan.align_blocks + plan.num_blocks, dtype=dtype)
    (x, _, ok, num_steps), logs = jax.lax.scan(
        block, (x, jnp.asarray(q0, dtype), ok, num_steps), j)
    logs = logs[plan.align_blocks:]  # the alignment blocks only turn the frame

    lam = jnp.sum(logs, axis=0) / (plan.num_blocks * plan.block)
    error = _convergence(logs, plan.block)
    times = jnp.arange(1, plan.num_blocks + 1, dtype=dtype) * plan.block
    history = jnp.cumsum(logs, axis=0) / times[:, None]
    order = jnp.argsort(-jax.lax.stop_gradient(lam))
    lam, error, history = lam[order], error[order], history[:, order]

    finite = jnp.all(jnp.isfinite(lam)) & jnp.all(jnp.isfinite(x))
    result = RESULTS.where(
        ok,
        RESULTS.where(finite, RESULTS.successful, RESULTS.lyapunov_nonfinite),
        RESULTS.lyapunov_integration_failed,
    )
    if throw:
        lam = result.error_if(lam, result != RESULTS.successful)
    return LyapunovSpectrum(
        exponents=lam, error=error, history=history, times=times, x_final=x,
        result=result, num_steps=num_steps,
    )


# ------------------------------------------------------------------------ front doors
def lyapunov_spectrum(
    field: Callable | GRU | Problem,
    x0: Any,
    args: Args = None,
    *,
    k: int | None = None,
    t_transient: float = 100.0,
    t_align: float = 0.0,
    t_total: float = 1000.0,
    dt_reorth: float = 0.5,
    dt0: float = 0.01,
    solver: diffrax.AbstractSolver | None = None,
    stepsize_controller: diffrax.AbstractStepSizeController | None = None,
    max_steps: int | None = None,
    adjoint: diffrax.AbstractAdjoint | None = None,
    throw: bool = True,
) -> LyapunovSpectrum:
    """The `k` largest Lyapunov exponents of the trajectory from `x0` (Benettin's method:
    the variational equations integrated with Diffrax, QR re-orthonormalisation every
    `dt_reorth`). See the module docstring for the method, the choice of solver, the
    convergence estimate and the accuracy in float32.

    **Arguments:**

    - `field`: a vector field `f(t, x, args)` (Diffrax's signature), a `gru_bif.GRU`
        (then `args` is its constant input `u`, or `None` without inputs) or a
        `gru_bif.Problem` (then `args` must be `None`).
    - `x0`: the initial state, shape `(d,)`.
    - `args`: passed to `f`; gradients flow to every array leaf.
    - `k`: how many exponents, `1 ≤ k ≤ d` (default `d`, the full spectrum).
    - `t_transient`: time integrated first (state only) and discarded, to reach the
        attractor.
    - `t_align`: time after the transient during which the frame is evolved and
        re-orthonormalised but not counted (rounded up to whole blocks): it removes the
        `O(1/t_total)` bias of the frame's initial alignment (about `1/t_total` on a limit
        cycle), at the cost of `t_align` more time with the tangent frame.
    - `t_total`: the averaging time after the transient (and the alignment).
    - `dt_reorth`: the time between QR re-orthonormalisations (rounded so that a whole
        number of blocks fills `t_total`).
    - `dt0`: the fixed step (rounded down to divide each block evenly), or the first
        step of an adaptive controller.
    - `solver`: any Diffrax ODE solver (default `diffrax.Tsit5()`).
    - `stepsize_controller`: default `diffrax.ConstantStepSize()`; pass a
        `diffrax.PIDController` for adaptive steps.
    - `max_steps`: the most solver steps per block (and for the transient) with an
        adaptive controller (default 4096); with fixed steps it is computed.
    - `adjoint`: how to differentiate through each block's integration (default
        `diffrax.RecursiveCheckpointAdjoint()`).
    - `throw`: raise if the computation fails. Under `jax.vmap` pass `throw=False` and
        read `result` instead (with `throw=True` one failing lane raises for all).

    `t_transient`, `t_align`, `t_total`, `dt_reorth`, `dt0`, `k` and `max_steps` fix array
    shapes and must be Python numbers; `x0` and `args` may be traced (`jit`, `vmap`, `grad`).

    **Returns:**

    A [`gru_bif.chaos.LyapunovSpectrum`][].

    **Raises:**

    `ValueError` for an `x0` that is not one finite state of shape `(d,)`, a field whose
    output shape differs from the state's, `k` outside `1 … d`, non-positive times or
    `dt_reorth > t_total`.

    !!! example

        ```python
        from gru_bif.chaos import lorenz_field, LORENZ_PARAMS, lyapunov_spectrum
        spec = lyapunov_spectrum(lorenz_field, jnp.array([1.0, 1.0, 1.0]), LORENZ_PARAMS)
        spec.exponents  # ≈ [0.906, 0.000, -14.57]
        spec.sum        # = -(σ + 1 + β) = -13.667
        ```
    """
    f, args = resolve_field(field, args)
    # Python floats in args would be static under filter_jit (a recompilation for
    # every new value): make them (weakly typed) arrays, which keeps their promotion
    args = jax.tree_util.tree_map(
        lambda a: jnp.asarray(a) if isinstance(a, float) else a, args)
    x0 = _check_state(x0)
    d = x0.shape[0]
    if k is None:
        k = d
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= d:
        raise ValueError(
            f"`k` (how many exponents) must be an int with 1 ≤ k ≤ d = {d}; got {k!r}. "
            "Use k=None for the full spectrum."
        )
    _check_field(f, x0, args)
    controller = diffrax.ConstantStepSize() if stepsize_controller is None else stepsize_controller
    plan = _plan(t_transient, t_align, t_total, dt_reorth, dt0, max_steps, controller)
    solver = diffrax.Tsit5() if solver is None else solver
    adjoint = diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint
    q0 = _initial_frame(d, int(k), np.dtype(x0.dtype))
    return _spectrum(f, x0, args, q0, plan, solver, controller, adjoint, throw)


def largest_lyapunov(
    field: Callable | GRU | Problem, x0: Any, args: Args = None, **kwargs
) -> Float[Array, ""]:
    """The largest Lyapunov exponent `λ1` alone (`lyapunov_spectrum(..., k=1)`), a scalar,
    differentiable with respect to `args` (and `x0`, and the weights of a GRU passed as
    `field`).

    The derivative is that of the finite-horizon estimate. Where `λ1` is a smooth
    function of the parameters (attracting equilibria and limit cycles, linear systems)
    it converges to `dλ1/dθ` like `1/t_total`; on a chaotic attractor the finite-horizon
    gradient is noisy and its variance grows with `t_total`.

    **Arguments:** as [`gru_bif.chaos.lyapunov_spectrum`][] (keywords only after
    `args`; `k` is fixed at 1).

    **Returns:** `λ1`, shape `()`.

    !!! example

        ```python
        grad = jax.grad(lambda A: largest_lyapunov(lambda t, x, A: A @ x, jnp.zeros(3), A,
                                                   t_transient=0.0, t_total=200.0))(A)
        ```
    """
    if "k" in kwargs:
        raise ValueError("largest_lyapunov computes k=1; use lyapunov_spectrum for k > 1.")
    return lyapunov_spectrum(field, x0, args, k=1, **kwargs).exponents[0]
