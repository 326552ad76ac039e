"""The contract shared by every two-parameter curve the engine continues: curves of
folds and Hopf points of equilibria (`gru_bif.curves.equilibrium`) and curves of folds
of cycles (`gru_bif.periodic.lpc_curve`).

A curve point is `u = (y, p1, p2)`: `y` the solution (an equilibrium, or a cycle's
nodes and period), `p1` the first parameter (`problem.param`) and `p2` the second
(`param2`). The engine sees the state `(y, p1)` and the scalar parameter `p2`;
pseudo-arclength treats them alike, so a curve may turn in either parameter. Turning
points in `p2` are geometry, not bifurcations, and are not reported; branch-point
flags are kept only where the curve's own defining system is singular.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from ..branch import SpecialKind
from ..continuation.problems import AbstractContinuationProblem
from ..problem import AbstractParam, Param, Problem


class AbstractCurveProblem(AbstractContinuationProblem):
    """A curve in two parameters: `u = (y, p1, p2)` with `y` of length `n_y`."""

    param2: eqx.AbstractVar[AbstractParam]

    @property
    @abc.abstractmethod
    def n_y(self) -> int:
        """Length of the solution part `y` of a curve point."""

    def split(self, u):
        """`u -> (y, p1, p2)`."""
        n = self.n_y
        return u[:n], u[n], u[n + 1]

    def state(self, u):
        return u[:-1]

    @property
    def param_name(self) -> str:
        return self.param2.label

    @property
    def fold_kind(self) -> SpecialKind:
        # a turning point of the curve in p2 is geometry, not a bifurcation: such flags
        # get kind NONE and are discarded in `special_data`
        return SpecialKind.NONE


def branch_point_genuine(Hu, t):
    """A branch-point flag on a curve is genuine only where the curve's augmented
    Jacobian `[H_u; tᵀ]` is (numerically) singular; sign flips of the border
    orientation also flip its determinant, and are discarded here."""
    A = jax.lax.stop_gradient(jnp.concatenate([Hu, t[None, :]], axis=0))
    sv = jnp.linalg.svd(A, compute_uv=False)
    return sv[-1] <= 1e-6 * sv[0]


def resolve_param2(problem: Problem, param2) -> AbstractParam:
    """The second parameter of a curve of `problem`: a name such as `"b2"` or
    `"bh[1]"` (resolved in `problem.args`) or an `AbstractParam`; it must differ from
    `problem.param`.

    **Raises:** `ValueError` naming the fix for anything else."""
    if isinstance(param2, str):
        param2 = Param.from_name(problem.args, param2)
    elif not isinstance(param2, AbstractParam):
        raise ValueError(
            "`param2` must be a parameter name such as 'b2' or 'bh[1]', or an "
            f"AbstractParam; got {type(param2).__name__}."
        )
    if param2 == problem.param or param2.label == problem.param.label:
        raise ValueError(
            f"param2={param2.label!r} is the problem's own parameter; a curve needs two "
            "different parameters."
        )
    return param2
