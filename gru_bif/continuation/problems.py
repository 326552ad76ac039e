"""Continuation problems: "a residual and a Jacobian" that the engine continues.

The engine continues the zero set of `H(u) = 0`, `H: R^{n+1} → R^n`, whatever `u` means;
the last component of `u` is the continuation parameter (for reporting). Generic test
functions (fold: the parameter component of the tangent; branch point: the determinant of
the augmented Jacobian) come from the engine; a problem adds its own (e.g. Hopf for
equilibria) and says how to compute stability and the data of its special points.

To continue a new kind of solution, subclass `AbstractContinuationProblem` and implement
its abstract methods; see `EquilibriumProblem` for an example.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import Array
from ..bifurcations.normal_form import first_lyapunov, fold_coefficient
from ..bifurcations.test_functions import (
    count_unstable,
    hopf_test_bialternate,
    hopf_test_eigen,
)
from ..branch import SpecialKind
from ..problem import Problem


class AbstractContinuationProblem(eqx.Module):
    """The contract between a solution type and the continuation engine.

    - `residual(u)`: `H(u)`, shape `(n,)`, `u` of shape `(n + 1,)`.
    - `state(u)` / `param(u)`: the reported state and parameter value.
    - `extra_kinds`: static tuple of `SpecialKind`s of the problem's own test functions.
    - `extra_tests(u, Hu)`: their values (shape `(len(extra_kinds),)`); a special point
        is flagged where one changes sign between two steps.
    - `n_unstable(u, Hu)`: number of unstable directions (-1 if not computed).
    - `special_data(kind, u, Hu, t)`: `(valid, data)` at a located point: `valid` says
        whether the point is real (e.g. False for a neutral saddle flagged by the Hopf
        test), `data` a dict of scalars (NaN where not applicable), same keys always.
    """

    @abc.abstractmethod
    def residual(self, u: Array) -> Array: ...

    @abc.abstractmethod
    def state(self, u: Array) -> Array: ...

    @abc.abstractmethod
    def extra_tests(self, u: Array, Hu: Array) -> Array: ...

    @abc.abstractmethod
    def n_unstable(self, u: Array, Hu: Array) -> Array: ...

    @abc.abstractmethod
    def special_data(self, kind, u: Array, Hu: Array, t: Array): ...

    @property
    @abc.abstractmethod
    def extra_kinds(self) -> tuple: ...

    @property
    @abc.abstractmethod
    def data_keys(self) -> tuple: ...

    @property
    @abc.abstractmethod
    def param_name(self) -> str: ...

    def param(self, u: Array) -> Array:
        return u[-1]


class EquilibriumProblem(AbstractContinuationProblem):
    """Equilibria `F(x, p) = 0` of a `Problem`, `u = (x, p)`.

    **Arguments:**

    - `problem`: the `gru_bif.Problem`.
    - `hopf`: detect Hopf points (`"auto"`: bialternate product for d ≤ 12, eigenvalue
        test above; `"bialternate"`; `"eigen"`; `"off"`).
    - `stability`: count unstable eigenvalues at every point (an eigen-decomposition per
        step, under `stop_gradient`); turn off for throughput.
    """

    problem: Problem
    hopf: str = eqx.field(static=True, default="auto")
    stability: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        if self.hopf not in ("auto", "bialternate", "eigen", "off"):
            raise ValueError(
                f"hopf={self.hopf!r}; use 'auto', 'bialternate', 'eigen' or 'off'."
            )

    @property
    def param_name(self) -> str:
        return self.problem.param.label

    def residual(self, u):
        return self.problem.F(u[:-1], u[-1])

    def state(self, u):
        return u[:-1]

    def _F_at(self, p):
        return lambda x: self.problem.F(x, p)

    @property
    def extra_kinds(self):
        return () if self.hopf == "off" else (SpecialKind.HOPF,)

    @property
    def data_keys(self):
        return ("omega", "l1", "a")

    def _hopf_mode(self, d):
        if self.hopf == "auto":
            return "bialternate" if d <= 12 else "eigen"
        return self.hopf

    def extra_tests(self, u, Hu):
        J = Hu[:, :-1]
        d = J.shape[0]
        mode = self._hopf_mode(d)
        if mode == "off":
            return jnp.zeros((0,), u.dtype)
        if mode == "bialternate":
            return hopf_test_bialternate(J)[None]
        ev = jnp.linalg.eigvals(jax.lax.stop_gradient(J))
        return hopf_test_eigen(ev, u.dtype)[None]

    def n_unstable(self, u, Hu):
        if not self.stability:
            return jnp.asarray(-1, jnp.int32)
        J = jax.lax.stop_gradient(Hu[:, :-1])
        return count_unstable(jnp.linalg.eigvals(J), u.dtype)

    def special_data(self, kind, u, Hu, t):
        """Fold: coefficient `a`. Hopf: `omega`, `l1`, and validity (a neutral saddle —
        real eigenvalues ±κ — also zeroes the Hopf test and is discarded)."""
        x, p = u[:-1], u[-1]
        J = Hu[:, :-1]
        F = self._F_at(p)
        nan = jnp.full((), jnp.nan, u.dtype)
        d = x.shape[0]

        def fold_data(_):
            # at a fold the tangent is (q, 0): its state part is the null vector of J
            a = fold_coefficient(F, x, J, t[:-1], Hu[:, -1])
            return jnp.asarray(True), {"omega": nan, "l1": nan, "a": a}

        def hopf_data(_):
            if d < 2:
                return jnp.asarray(False), {"omega": nan, "l1": nan, "a": nan}
            Js = jax.lax.stop_gradient(J)
            ev, vecs = jnp.linalg.eig(Js)
            scale = jnp.maximum(1.0, jnp.max(jnp.abs(ev)))
            # the eigenvalue with Im > 0 closest to the imaginary axis
            score = jnp.where(ev.imag > 1e-8 * scale, jnp.abs(ev.real), jnp.inf)
            i = jnp.argmin(score)
            omega = ev[i].imag
            valid = jnp.isfinite(score[i]) & (score[i] < 1e-5 * scale)
            q = vecs[:, i]
            evl, vecl = jnp.linalg.eig(Js.T)
            j = jnp.argmin(jnp.abs(evl - jnp.conj(ev[i])))
            pl = vecl[:, j]
            l1 = first_lyapunov(F, x, J, omega, q, pl)
            omega = jnp.where(valid, omega, nan)
            l1 = jnp.where(valid, l1, nan)
            return valid, {"omega": omega.astype(u.dtype), "l1": l1.astype(u.dtype), "a": nan}

        def none_data(_):
            return jnp.asarray(True), {"omega": nan, "l1": nan, "a": nan}

        ok_f, data_f = fold_data(None)
        ok_h, data_h = hopf_data(None)
        is_f = kind == SpecialKind.FOLD
        is_h = kind == SpecialKind.HOPF
        valid = jnp.where(is_f, ok_f, jnp.where(is_h, ok_h, True))
        data = {
            k: jnp.where(is_f, data_f[k], jnp.where(is_h, data_h[k], nan))
            for k in data_f
        }
        return valid, data
