"""The results of equilibrium and slow-point searches: `Equilibria`, `SlowPoints`
(fixed-capacity, NaN-padded pytrees with a count)."""


import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._custom_types import Array, Bool, Float, Int
from .._results import RESULTS

from .classify import (
    EQUILIBRIUM_TYPES, SADDLE, STABLE_FOCUS, STABLE_NODE, UNSTABLE_FOCUS, UNSTABLE_NODE,
    kind_name,
)

# --------------------------------------------------------------------------- results


def _concrete(*xs) -> bool:
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(xs))


class Equilibria(eqx.Module):
    """Equilibria found by [`gru_bif.find_equilibria`][].

    With `max_equilibria=None` (the default) the arrays hold exactly the `count` distinct
    equilibria found, sorted by type and then by coordinates. With `max_equilibria=K`
    they have the fixed capacity `K`, rows past `count` are NaN (kind `-1`), and
    `valid` marks the filled rows.

    **Fields:**

    - `x`: the equilibria, shape `(K, d)`.
    - `valid`: which rows hold an equilibrium, shape `(K,)`.
    - `residual`: max-norm of the true vector field at each point, shape `(K,)`.
    - `jacobian`: the Jacobian of the vector field, shape `(K, d, d)`.
    - `eigenvalues`: its eigenvalues (complex), shape `(K, d)`.
    - `kind`: type codes, indices into `gru_bif.EQUILIBRIUM_TYPES`, shape `(K,)`.
    - `count`: the number of distinct equilibria found.
    - `num_converged`: how many of the starts converged to an equilibrium.
    - `num_starts`: how many starts were tried.
    - `truncated`: whether more distinct equilibria were found than `max_equilibria`
        rows could hold (the extra ones were dropped).
    - `result`: `RESULTS.successful`, or `RESULTS.equilibrium_not_converged` when no
        start converged.
    """

    x: Float[Array, "K d"]
    valid: Bool[Array, " K"]
    residual: Float[Array, " K"]
    jacobian: Float[Array, "K d d"]
    eigenvalues: Array
    kind: Int[Array, " K"]
    count: Int[Array, ""]
    num_converged: Int[Array, ""]
    num_starts: Int[Array, ""]
    truncated: Bool[Array, ""]
    result: RESULTS

    # ---------------------------------------------------------------- helpers
    @property
    def labels(self) -> list[str]:
        """The type name of each valid equilibrium (host side)."""
        kind = np.asarray(self.kind)
        valid = np.asarray(self.valid)
        return [kind_name(k) for k, v in zip(kind.tolist(), valid.tolist()) if v]

    @property
    def types(self) -> list[str]:
        """Alias of `labels`."""
        return self.labels

    @property
    def stable(self) -> Bool[Array, " K"]:
        """`True` for asymptotically stable equilibria (all `Re λ < 0`)."""
        return (self.kind == STABLE_NODE) | (self.kind == STABLE_FOCUS)

    @property
    def unstable(self) -> Bool[Array, " K"]:
        """`True` for hyperbolic equilibria with at least one `Re λ > 0`."""
        return (
            (self.kind == UNSTABLE_NODE)
            | (self.kind == UNSTABLE_FOCUS)
            | (self.kind == SADDLE)
        )

    @property
    def num_unstable_directions(self) -> Int[Array, " K"]:
        """The number of eigenvalues with positive real part (the Morse index)."""
        return jnp.sum(jnp.real(self.eigenvalues) > 0, axis=-1)

    def counts(self) -> dict[str, int]:
        """How many equilibria of each type, e.g. `{"stable node": 4, "saddle": 4,
        "unstable node": 1}` (host side; types with none are left out)."""
        out: dict[str, int] = {}
        for label in self.labels:
            out[label] = out.get(label, 0) + 1
        return out

    def of_type(self, *names: str) -> Float[Array, "k d"]:
        """The valid equilibria of the given type names (host side)."""
        for n in names:
            if n not in EQUILIBRIUM_TYPES:
                raise ValueError(
                    f"Unknown equilibrium type {n!r}; choose from {EQUILIBRIUM_TYPES}."
                )
        codes = [EQUILIBRIUM_TYPES.index(n) for n in names]
        mask = np.asarray(self.valid) & np.isin(np.asarray(self.kind), codes)
        return self.x[np.nonzero(mask)[0]]

    def summary(self) -> str:
        """A table of the equilibria: coordinates, type, eigenvalues (by decreasing real
        part), residual."""
        if not _concrete(self.x, self.count) or np.ndim(self.count) != 0:
            return eqx.tree_pformat(self)
        n = int(self.count)
        lines = [
            f"Equilibria: {n} found from {int(self.num_starts)} starts "
            f"({int(self.num_converged)} converged)"
            + (" [truncated: raise max_equilibria]" if bool(self.truncated) else "")
        ]
        if n == 0:
            lines.append(f"  none ({RESULTS[self.result]})")
            return "\n".join(lines)
        idx = np.nonzero(np.asarray(self.valid))[0]
        x = np.asarray(self.x)
        eig = np.asarray(self.eigenvalues)
        res = np.asarray(self.residual)
        kind = np.asarray(self.kind)
        d = x.shape[1]
        show = min(d, 4)

        def fmt_eig(z):
            if abs(z.imag) > 0:
                return f"{z.real:+.4g}{z.imag:+.4g}j"
            return f"{z.real:+.4g}"

        header = (
            "   #  "
            + " ".join(f"{f'x[{j}]':>10}" for j in range(show))
            + (" ..." if d > show else "")
            + f"  {'type':<15} {'residual':>9}  eigenvalues"
        )
        lines.append(header)
        for r, i in enumerate(idx):
            coords = " ".join(f"{x[i, j]:>+10.6f}" for j in range(show))
            # by decreasing real part (the most unstable first), conjugates together
            ev = sorted(eig[i], key=lambda z: (-z.real, -z.imag))
            eigs = ", ".join(fmt_eig(z) for z in ev[:4]) + (", ..." if d > 4 else "")
            lines.append(
                f"  {r:>2}  {coords}{' ...' if d > show else ''}  "
                f"{kind_name(kind[i]):<15} {res[i]:>9.1e}  {eigs}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


class SlowPoints(eqx.Module):
    """Local minima of the speed `q(x) = |f(x)|²/2`, from [`gru_bif.find_slow_points`][].

    **Fields:**

    - `x`: the points, shape `(K, d)` (sorted by `q` on the host; NaN-padded with a
        fixed capacity).
    - `q`: the speed `|f(x)|²/2` at each point, shape `(K,)`.
    - `is_fixed_point`: `q < tol` (a true zero of the vector field) rather than a slow
        point (a local minimum with `q > 0`, a "ghost").
    - `valid`: which rows hold a point.
    - `count`: the number of distinct points.
    - `num_converged`: starts at which the minimiser converged.
    - `num_starts`: starts tried.
    - `truncated`: whether points were dropped for lack of capacity.
    - `result`: `RESULTS.successful`, or `RESULTS.equilibrium_not_converged` when the
        minimiser converged from no start.
    """

    x: Float[Array, "K d"]
    q: Float[Array, " K"]
    is_fixed_point: Bool[Array, " K"]
    valid: Bool[Array, " K"]
    count: Int[Array, ""]
    num_converged: Int[Array, ""]
    num_starts: Int[Array, ""]
    truncated: Bool[Array, ""]
    result: RESULTS

    def summary(self) -> str:
        if not _concrete(self.x, self.count) or np.ndim(self.count) != 0:
            return eqx.tree_pformat(self)
        idx = np.nonzero(np.asarray(self.valid))[0]
        x = np.asarray(self.x)
        q = np.asarray(self.q)
        fp = np.asarray(self.is_fixed_point)
        d = x.shape[1]
        show = min(d, 4)
        lines = [
            f"SlowPoints: {len(idx)} found from {int(self.num_starts)} starts "
            f"({int(np.sum(fp[idx]))} fixed points, {int(np.sum(~fp[idx]))} slow points)"
        ]
        for r, i in enumerate(idx):
            coords = " ".join(f"{x[i, j]:>+10.6f}" for j in range(show))
            lines.append(
                f"  {r:>2}  {coords}{' ...' if d > show else ''}  q={q[i]:.3e}  "
                f"{'fixed point' if fp[i] else 'slow point'}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


