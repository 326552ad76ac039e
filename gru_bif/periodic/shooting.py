"""Periodic orbits by (multiple) shooting with Diffrax, continued by the same engine as
equilibria and collocation — a second method, and a cross-check of collocation.

A periodic orbit of `x' = f(x, p)` with period `T` is cut into `M` segments at the
fractions `0 = σ₀ < σ₁ < … < σ_M = 1` of the period. The unknowns are the segment
starts `x_0, …, x_{M−1}`, the period and the parameter, `u = (x_0, …, x_{M−1}, T, p)`
(`M d + 2` numbers), and the equations are

- continuity: `φ_{τ_k}(x_k) − x_{k+1} = 0`, `τ_k = (σ_{k+1} − σ_k) T`, with
    `x_M ≡ x_0` (periodicity), `M d` equations;
- phase condition: `Σ_k ⟨x_k − r_k, v_k⟩ = 0`, `r_k` the reference orbit at the
    segment starts and `v_k = f(r_k)` its velocity (normalised): a discrete version of
    collocation's integral phase condition (for `M = 1` the Poincaré section through
    `r_0` orthogonal to the flow).

`φ_τ(x)` is the flow of the rescaled field `y' = τ f(y)` over `s ∈ [0, 1]`, computed by
`diffrax.diffeqsolve` (default `Dopri8`, `rtol = atol = 1e-12`) with
`adjoint=diffrax.ForwardMode()`, so the engine's `jax.jacfwd` of the residual is the
exact derivative of the discrete solver (Jacobian by forward-mode autodiff through the
integrator: `M d + 2` tangents). The engine's state is `u[:-1]` (segment starts and
period).

**Floquet multipliers.** The segment Jacobians `Φ_k = ∂φ_{τ_k}/∂x_k` are the diagonal
blocks of the continuity Jacobian (which the engine has already computed at every step;
for `M = 1` the block is `Φ_0 − I`), and the monodromy matrix is their product
`M = Φ_{M−1} ⋯ Φ_0`. Deflation and the test functions of fold of cycles (LPC), period
doubling (PD) and Neimark–Sacker (NS) are those of collocation
(`gru_bif.periodic.floquet`), so both methods detect the same points.

**When to use which.** Collocation is the default: it reaches long periods (near a
homoclinic orbit) and its cost does not depend on the stiffness of the flow. Shooting
has few unknowns (`M d + 2`) and the accuracy of an adaptive integrator, but an unstable
cycle with a multiplier `μ` amplifies errors by `|μ|^{1/M}` per segment: use more
segments for strongly unstable cycles.
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array, Float
from ..branch import SpecialKind
from ..continuation.problems import AbstractContinuationProblem
from ..problem import Problem
from .floquet import (
    chain_product,
    count_unstable_multipliers,
    deflate,
    multipliers_of,
    neimark_sacker_test,
    period_doubling_test,
)


class ShootingProblem(AbstractContinuationProblem):
    """Periodic orbits of a `gru_bif.Problem` by multiple shooting with Diffrax (see the
    module docstring for the equations and unknowns).

    **Arguments:**

    - `problem`: the `gru_bif.Problem` (autonomous: `f` is evaluated at `t = 0`); its
        `param` is the continuation parameter.
    - `reference`: the reference orbit of the phase condition at the segment starts,
        shape `(segments, d)` (usually the start guess itself); its velocity is taken at
        the problem's current parameter value `problem.p`.
    - `mesh`: the segment boundaries as fractions of the period, shape
        `(segments + 1,)`, from 0 to 1 (default uniform).
    - `rtol`, `atol`: tolerances of the integrations (default 1e-12; the accuracy of
        the cycle, its period and multipliers follows them).
    - `solver`: a Diffrax solver (default `diffrax.Dopri8()`).
    - `max_steps`: the integrator's step limit per segment (an integration that hits it
        returns NaN: the corrector then fails and the engine halves its step).
    - `stability`, `detect`: as for `CollocationProblem` (count unstable multipliers;
        test for PD/NS when `d ≥ 3`).

    Special points carry the data `period`, `mu_re`, `mu_im` (the critical multiplier),
    exactly as for collocation.

    **Raises:** `ValueError` for a reference that is not `(segments, d)` with
    `d ≥ 2`, a non-finite reference, a bad mesh, or non-positive tolerances.

    !!! example

        ```python
        sp, u0 = gru_bif.periodic.shooting_from_collocation(cp, u, segments=4)
        cycles = gru_bif.continuation(sp, u0[:-1], u0[-1], p_min=0, p_max=1, ds=0.05)
        ```
    """

    problem: Problem
    reference: Float[Array, "M d"]
    velocity: Float[Array, "M d"]
    mesh: Float[Array, " M+1"]
    solver: diffrax.AbstractSolver
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    stability: bool = eqx.field(static=True)
    detect: bool = eqx.field(static=True)

    def __init__(
        self,
        problem: Problem,
        reference,
        *,
        mesh=None,
        rtol: float = 1e-12,
        atol: float = 1e-12,
        solver: "diffrax.AbstractSolver | None" = None,
        max_steps: int = 20_000,
        stability: bool = True,
        detect: bool = True,
    ):
        if not isinstance(problem, Problem):
            raise ValueError(
                f"`problem` must be a gru_bif.Problem; got {type(problem).__name__}."
            )
        reference = jnp.asarray(reference)
        if not jnp.issubdtype(reference.dtype, jnp.floating):
            reference = reference.astype(jnp.result_type(float))
        if reference.ndim != 2 or reference.shape[0] < 1:
            raise ValueError(
                f"reference has shape {reference.shape}; it must hold the orbit at the "
                "segment starts, shape (segments, d)."
            )
        M, d = reference.shape
        if d < 2:
            raise ValueError(
                f"The state has dimension {d}; periodic orbits need d >= 2."
            )
        if not (rtol > 0 and atol > 0):
            raise ValueError(f"rtol={rtol}, atol={atol}; both must be positive.")
        if int(max_steps) < 1:
            raise ValueError(f"max_steps={max_steps}; it must be positive.")
        mesh = (
            jnp.linspace(0.0, 1.0, M + 1, dtype=reference.dtype)
            if mesh is None
            else jnp.asarray(mesh, reference.dtype)
        )
        if mesh.shape != (M + 1,):
            raise ValueError(
                f"mesh has shape {mesh.shape}; it must have segments + 1 = {M + 1} "
                "points from 0 to 1."
            )
        try:
            m, ref = np.asarray(mesh), np.asarray(reference)
        except Exception:  # traced: no checks
            m = ref = None
        if m is not None:
            if abs(m[0]) > 1e-12 or abs(m[-1] - 1) > 1e-12 or np.any(np.diff(m) <= 0):
                raise ValueError(
                    "mesh must increase strictly from 0 to 1; got "
                    f"[{m[0]}, ..., {m[-1]}]."
                )
            if not np.all(np.isfinite(ref)):
                raise ValueError("reference contains NaN or inf; pass a finite orbit.")
        args = problem.args
        v = jax.vmap(lambda x: problem.f(0.0, x, args))(reference).astype(reference.dtype)
        v = v / jnp.maximum(jnp.sqrt(jnp.sum(v**2)), jnp.finfo(v.dtype).tiny)
        self.problem = problem
        self.reference = reference
        self.velocity = v
        self.mesh = mesh
        self.solver = diffrax.Dopri8() if solver is None else solver
        self.rtol = float(rtol)
        self.atol = float(atol)
        self.max_steps = int(max_steps)
        self.stability = bool(stability)
        self.detect = bool(detect)

    # ------------------------------------------------------------------ layout
    @property
    def segments(self) -> int:
        """The number of shooting segments `M`."""
        return self.reference.shape[0]

    @property
    def dim(self) -> int:
        """The state dimension `d`."""
        return self.reference.shape[1]

    @property
    def size(self) -> int:
        """Length of `u`: `M d + 2`."""
        return self.segments * self.dim + 2

    def split(self, u) -> tuple[Array, Array, Array]:
        """`u -> (starts (M, d), T, p)`. Also accepts the engine's state `u[:-1]` (then
        `p` is NaN)."""
        n = self.segments * self.dim
        if u.shape[-1] == n + 1:
            u = jnp.concatenate([u, jnp.full(u.shape[:-1] + (1,), jnp.nan, u.dtype)], -1)
        if u.shape[-1] != n + 2:
            raise ValueError(
                f"u has length {u.shape[-1]}; this problem's unknowns have length "
                f"{n + 2} (segments·d starts, T, p)."
            )
        X = u[..., :n].reshape(u.shape[:-1] + (self.segments, self.dim))
        return X, u[..., n], u[..., n + 1]

    def pack(self, starts, period, p) -> Float[Array, " n+2"]:
        """`(starts (M, d), T, p) -> u`."""
        starts = jnp.asarray(starts)
        dt = starts.dtype
        return jnp.concatenate(
            [starts.reshape(-1), jnp.reshape(period, (1,)).astype(dt),
             jnp.reshape(p, (1,)).astype(dt)]
        )

    # ------------------------------------------------------------------ flow
    def _solve(self, x0, tau, p, saveat):
        args = self.problem.param.set(self.problem.args, p)
        f = self.problem.f

        def rhs(s, y, a):
            aa, tt = a
            return tt * f(0.0, y, aa)

        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(rhs),
            self.solver,
            t0=0.0,
            t1=1.0,
            dt0=None,
            y0=x0,
            args=(args, tau),
            saveat=saveat,
            stepsize_controller=diffrax.PIDController(rtol=self.rtol, atol=self.atol),
            adjoint=diffrax.ForwardMode(),
            max_steps=self.max_steps,
            throw=False,
        )
        ok = sol.result == diffrax.RESULTS.successful
        return jnp.where(ok, sol.ys, jnp.nan).astype(x0.dtype)

    def flow(self, x0, tau, p) -> Float[Array, " d"]:
        """`φ_τ(x0)` at parameter `p` (NaN if the integration failed)."""
        return self._solve(x0, tau, p, diffrax.SaveAt(t1=True))[-1]

    def _durations(self, T, dtype):
        return T * jnp.diff(self.mesh).astype(dtype)

    def segment_ends(self, u) -> Float[Array, "M d"]:
        """`φ_{τ_k}(x_k)` for every segment."""
        X, T, p = self.split(u)
        taus = self._durations(T, u.dtype)
        return jax.vmap(self.flow, in_axes=(0, 0, None))(X, taus, p)

    # ------------------------------------------------------------------ contract
    @property
    def param_name(self) -> str:
        return self.problem.param.label

    @property
    def fold_kind(self) -> SpecialKind:
        return SpecialKind.FOLD_CYCLE

    def residual(self, u):
        """Continuity (`M d`, segment-major) and the phase condition (last)."""
        dtype = u.dtype
        X, _, _ = self.split(u)
        Y = self.segment_ends(u)
        cont = Y - jnp.roll(X, -1, axis=0)
        phase = jnp.sum((X - self.reference.astype(dtype)) * self.velocity.astype(dtype))
        return jnp.concatenate([cont.reshape(-1), phase[None]])

    def state(self, u):
        return u[:-1]

    @property
    def extra_kinds(self) -> tuple:
        if self.detect and self.dim >= 3:
            return (SpecialKind.PERIOD_DOUBLING, SpecialKind.NEIMARK_SACKER)
        return ()

    @property
    def data_keys(self) -> tuple:
        return ("period", "mu_re", "mu_im")

    def _monodromy_from_jacobian(self, Hu):
        """`Φ_{M−1} ⋯ Φ_0` from the diagonal blocks of the residual's Jacobian."""
        M, d = self.segments, self.dim
        idx = jnp.arange(M)
        blocks = Hu[: M * d, : M * d].reshape(M, d, M, d)[idx, :, idx, :]  # (M, d, d)
        if M == 1:
            blocks = blocks + jnp.eye(d, dtype=Hu.dtype)
        return chain_product(blocks)

    def segment_jacobians(self, u) -> Float[Array, "M d d"]:
        """`Φ_k = ∂φ_{τ_k}/∂x_k` by forward-mode autodiff through the integrator."""
        X, T, p = self.split(u)
        taus = self._durations(T, u.dtype)
        jac = jax.jacfwd(self.flow, argnums=0)
        return jax.vmap(jac, in_axes=(0, 0, None))(X, taus, p)

    def monodromy(self, u) -> Float[Array, "d d"]:
        """The monodromy matrix `Φ_{M−1} ⋯ Φ_0` (at the first segment start)."""
        return chain_product(self.segment_jacobians(u))

    def _deflate(self, u, M):
        X, _, p = self.split(u)
        args = self.problem.param.set(self.problem.args, p)
        v = self.problem.f(0.0, X[0], args).astype(u.dtype)
        return deflate(M, v)

    def deflated_monodromy(self, u) -> Float[Array, "d-1 d-1"]:
        """The monodromy matrix on the complement of the orbit direction `f(x_0)`."""
        return self._deflate(u, self.monodromy(u))

    def extra_tests(self, u, Hu):
        if not self.extra_kinds:
            return jnp.zeros((0,), u.dtype)
        D = self._deflate(u, self._monodromy_from_jacobian(Hu))
        return jnp.stack([period_doubling_test(D), neimark_sacker_test(D)]).astype(u.dtype)

    def n_unstable(self, u, Hu):
        if not self.stability:
            return jnp.asarray(-1, jnp.int32)
        Hs = jax.lax.stop_gradient(Hu)
        D = self._deflate(jax.lax.stop_gradient(u), self._monodromy_from_jacobian(Hs))
        mu = multipliers_of(D)
        return count_unstable_multipliers(jnp.atleast_1d(mu), u.dtype)

    def special_data(self, kind, u, Hu, t):
        """Located point, validity and data: `period`, and the critical multiplier
        `mu_re + i mu_im` (as `CollocationProblem.special_data`)."""
        from .collocation import _critical_multiplier_data

        u = jax.lax.stop_gradient(u)
        Hs = jax.lax.stop_gradient(Hu)
        _, T, _ = self.split(u)
        D = self._deflate(u, self._monodromy_from_jacobian(Hs))
        mu = jnp.atleast_1d(multipliers_of(D))
        valid, data = _critical_multiplier_data(kind, mu, T, u.dtype)
        return valid, u, data

    # ------------------------------------------------------------------ helpers
    def with_reference(self, u) -> "ShootingProblem":
        """A copy whose phase-condition reference is the orbit of `u`."""
        X, _, p = self.split(jnp.asarray(u))
        X = X.astype(self.reference.dtype)
        args = self.problem.param.set(self.problem.args, p)
        v = jax.vmap(lambda x: self.problem.f(0.0, x, args))(X).astype(X.dtype)
        v = v / jnp.maximum(jnp.sqrt(jnp.sum(v**2)), jnp.finfo(v.dtype).tiny)
        return eqx.tree_at(lambda c: (c.reference, c.velocity), self, (X, v))

    def orbit(self, u, n: int = 400) -> tuple[Float[Array, " n"], Float[Array, "n d"]]:
        """`(ts, xs)`: the orbit of `u` at `n` equally spaced times in `[0, T]`,
        integrated from the first segment start over one period."""
        return _shoot_orbit(self, jnp.asarray(u), int(n))


@filter_jit
def _shoot_orbit(sp, u, n):
    X, T, p = sp.split(u)
    s = jnp.linspace(0.0, 1.0, n, dtype=u.dtype)
    xs = sp._solve(X[0], T, p, diffrax.SaveAt(ts=s))
    return s * T, xs


def shooting_from_collocation(
    cp, u, *, segments: int = 4, **kwargs
) -> tuple[ShootingProblem, Float[Array, " n"]]:
    """A shooting problem and its start from a collocation cycle: the orbit of `u` (a
    solution of the `CollocationProblem` `cp`) sampled at `segments` equally spaced
    phases.

    **Arguments:** `cp`, `u`: the collocation problem and a cycle of it (e.g.
    `view.u(i)` of a `CycleBranch`); `segments`: the number of shooting segments;
    `kwargs`: passed to `ShootingProblem` (`rtol`, `atol`, `solver`, ...).

    **Returns:** `(shooting_problem, u0)`, `u0 = (starts, T, p)`, with the phase
    reference = the starts and the problem's parameter set to `p`.
    """
    segments = int(segments)
    if segments < 1:
        raise ValueError(f"segments={segments}; use at least 1.")
    u = jnp.asarray(u)
    _, T, p = cp.split(u)
    s = jnp.linspace(0.0, 1.0, segments + 1, dtype=u.dtype)[:-1]
    starts = cp.evaluate(u, s)
    sp = ShootingProblem(cp.problem.with_p(p), starts, **kwargs)
    return sp, sp.pack(starts, T, p)


@filter_jit
def shooting_multipliers(sp: ShootingProblem, u) -> Array:
    """The `d − 1` non-trivial Floquet multipliers (complex, by decreasing modulus) of
    the shooting solution `u` (eigenvalues of the deflated monodromy matrix; not
    differentiable)."""
    mu = jnp.atleast_1d(multipliers_of(sp.deflated_monodromy(u)))
    return mu[jnp.argsort(-jnp.abs(mu))]
