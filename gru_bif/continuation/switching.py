"""Branch switching at branch points, and `bifurcation_diagram`, which follows every
branch met from a start point to a chosen depth."""

import jax.numpy as jnp
import numpy as np

from ..branch import Branch, SpecialKind
from .api import continuation
from .problems import EquilibriumProblem
from ..problem import Problem


def branch_direction(problem: Problem, x, p, tangent):
    """The direction of the *other* branch through a simple branch point `(x, p)`:
    the unit vector of the two-dimensional kernel of `[F_x, F_p]` orthogonal to the
    current branch's `tangent`. Host-side (SVD)."""
    cp = EquilibriumProblem(problem, hopf="off", stability=False)
    import jax

    u = jnp.concatenate([jnp.asarray(x), jnp.asarray(p)[None]])
    Hu = np.asarray(jax.jacfwd(cp.residual)(u))
    _, sv, vt = np.linalg.svd(Hu, full_matrices=True)
    kernel = vt[-2:]  # the 2-D (approximate) null space at a simple branch point
    t = np.asarray(tangent, dtype=float)
    t = t / np.linalg.norm(t)
    # the kernel vector most orthogonal to t
    proj = kernel - np.outer(kernel @ t, t)
    v = proj[np.argmax(np.linalg.norm(proj, axis=1))]
    v = v - (v @ t) * t
    return v / np.linalg.norm(v), sv


def switch_branch(
    problem: Problem, branch: Branch, index: int, *, delta: float | None = None, **kwargs
) -> Branch:
    """Continue the other branch through the branch point `branch.special[index]`.

    **Arguments:**

    - `problem`: the `Problem` the branch was computed for.
    - `branch`: a `Branch` with a located `SpecialKind.BRANCH_POINT`.
    - `index`: which special point (an index into `branch.special`).
    - `delta`: distance from the branch point along the new direction at which the new
        branch is started (default: the `ds` keyword, or 0.01).
    - `**kwargs`: passed on to `continuation` (`p_min`, `p_max`, `ds`, ...);
        `direction` defaults to `"both"`, so both halves of the new branch are followed.

    **Returns:** the new `Branch`.

    **Raises:** `ValueError` if the special point is not a branch point.
    """
    kind = int(branch.special.kind[index])
    if index >= int(branch.special.count) or kind != SpecialKind.BRANCH_POINT:
        raise ValueError(
            f"special point {index} is not a branch point (kind "
            f"{SpecialKind(kind).label}); pick an index whose kind is 'branch_point'."
        )
    x = np.asarray(branch.special.x[index])
    p = float(branch.special.p[index])
    t = np.asarray(branch.special.tangent[index])
    v, _ = branch_direction(problem, x, p, t)
    if delta is None:
        delta = abs(float(kwargs.get("ds", 0.01)))
    u0 = np.concatenate([x, [p]]) + delta * v
    kwargs.setdefault("direction", "both")
    pmin, pmax = kwargs.get("p_min"), kwargs.get("p_max")
    if pmin is not None and pmax is not None:
        u0[-1] = min(max(u0[-1], pmin), pmax)
    return continuation(problem, u0[:-1], u0[-1], tangent0=v, **kwargs)


def bifurcation_diagram(
    problem: Problem, x0, p0=None, *, depth: int = 2, **kwargs
) -> list[Branch]:
    """Start from `(x0, p0)`, continue in both directions, then switch at every branch
    point met and follow the new branches, recursively up to `depth` levels.

    **Arguments:** as `continuation` (keywords passed on), plus `depth` (0: only the
    first branch).

    **Returns:** a list of `Branch`es, the first the one through `(x0, p0)`.
    """
    kwargs.setdefault("direction", "both")
    first = continuation(problem, x0, p0, **kwargs)
    branches = [first]
    seen: list[np.ndarray] = []  # branch points already switched at
    frontier = [first]
    for _ in range(depth):
        new_frontier = []
        for br in frontier:
            for i in range(int(br.special.count)):
                if int(br.special.kind[i]) != SpecialKind.BRANCH_POINT:
                    continue
                u = np.concatenate([np.asarray(br.special.x[i]), [float(br.special.p[i])]])
                # a simple branch point joins exactly two branches: once switched at,
                # it is done (it shows up again on the new branch)
                tol = 1e-5 * (1 + np.max(np.abs(u)))
                if any(np.max(np.abs(u - s)) < tol for s in seen):
                    continue
                seen.append(u)
                new = switch_branch(problem, br, i, **kwargs)
                branches.append(new)
                new_frontier.append(new)
        frontier = new_frontier
    return branches
