"""Types of equilibria (`EQUILIBRIUM_TYPES`) and their classification from a Jacobian's
eigenvalues (`classify`, `classify_eigenvalues`)."""


import equinox as eqx
import jax.numpy as jnp

from .._compile import filter_jit
from .._custom_types import Array, Float, Int


# --------------------------------------------------------------------------- types

EQUILIBRIUM_TYPES: tuple[str, ...] = (
    "stable node",
    "stable focus",
    "unstable node",
    "unstable focus",
    "saddle",
    "non-hyperbolic",
)
"""Names of the equilibrium types; `Equilibria.kind` holds indices into this tuple
(`-1` for padding)."""

STABLE_NODE, STABLE_FOCUS, UNSTABLE_NODE, UNSTABLE_FOCUS, SADDLE, NON_HYPERBOLIC = range(6)
INVALID = -1


def kind_name(code: int) -> str:
    """The name of an equilibrium-type code (`"invalid"` for `-1`, the padding code)."""
    code = int(code)
    if code == INVALID:
        return "invalid"
    if not 0 <= code < len(EQUILIBRIUM_TYPES):
        raise ValueError(
            f"Unknown equilibrium-type code {code}; valid codes are -1 (padding) and "
            f"0..{len(EQUILIBRIUM_TYPES) - 1} (see gru_bif.EQUILIBRIUM_TYPES)."
        )
    return EQUILIBRIUM_TYPES[code]


def _default_hyperbolic_tol(dtype) -> float:
    # eps^(1/3): 6e-6 in float64, 5e-3 in float32. Eigenvalues of a Jacobian evaluated
    # at a point converged to ~sqrt(eps) are accurate to about this.
    return float(jnp.finfo(dtype).eps) ** (1.0 / 3.0)


@filter_jit
def classify_eigenvalues(
    eigenvalues: Array, *, hyperbolic_tol: float | None = None
) -> Int[Array, "..."]:
    """Equilibrium-type codes (indices into `gru_bif.EQUILIBRIUM_TYPES`) from eigenvalues
    of shape `(..., d)`. See [`gru_bif.classify`][] for the rules."""
    eigenvalues = jnp.asarray(eigenvalues)
    real_dtype = jnp.real(eigenvalues).dtype
    tol = _default_hyperbolic_tol(real_dtype) if hyperbolic_tol is None else hyperbolic_tol
    re = jnp.real(eigenvalues)
    im = jnp.imag(eigenvalues)
    neg = jnp.all(re < -tol, axis=-1)
    pos = jnp.all(re > tol, axis=-1)
    nonhyp = jnp.any(jnp.abs(re) <= tol, axis=-1)
    oscill = jnp.any(jnp.abs(im) > tol, axis=-1)
    kind = jnp.where(
        nonhyp,
        NON_HYPERBOLIC,
        jnp.where(
            neg,
            jnp.where(oscill, STABLE_FOCUS, STABLE_NODE),
            jnp.where(pos, jnp.where(oscill, UNSTABLE_FOCUS, UNSTABLE_NODE), SADDLE),
        ),
    )
    finite = jnp.all(jnp.isfinite(eigenvalues), axis=-1)
    return jnp.where(finite, kind, INVALID).astype(jnp.int32)


def classify(
    jacobian: Float[Array, "... d d"], *, hyperbolic_tol: float | None = None
) -> Int[Array, "..."]:
    """Classify equilibria by the eigenvalues of their Jacobians.

    **Arguments:**

    - `jacobian`: one Jacobian `(d, d)` or a batch `(..., d, d)`.
    - `hyperbolic_tol`: eigenvalues with `|Re λ| <= hyperbolic_tol` count as zero (and
        `|Im λ| <= hyperbolic_tol` as real). Default `eps^(1/3)` of the dtype
        (6e-6 in float64, 5e-3 in float32).

    **Returns:**

    Integer codes, indices into `gru_bif.EQUILIBRIUM_TYPES`:

    - `"non-hyperbolic"` if any `|Re λ| <= hyperbolic_tol`; otherwise
    - `"stable node"` / `"stable focus"` if all `Re λ < 0` (focus if any eigenvalue has a
        non-zero imaginary part);
    - `"unstable node"` / `"unstable focus"` if all `Re λ > 0`;
    - `"saddle"` for mixed signs (in `d > 2` this includes saddle-foci).

    `-1` where the Jacobian is not finite. Eigenvalues come from `jnp.linalg.eigvals`
    (LAPACK on the host): use this to label points, not inside differentiated code.
    """
    jacobian = jnp.asarray(jacobian)
    if jacobian.ndim < 2 or jacobian.shape[-1] != jacobian.shape[-2]:
        raise ValueError(
            f"`jacobian` must have shape (..., d, d); got {jacobian.shape}."
        )
    return _classify_jit(jacobian, hyperbolic_tol)


@filter_jit
def _classify_jit(jacobian, hyperbolic_tol):
    finite = jnp.all(jnp.isfinite(jacobian), axis=(-2, -1))
    safe = jnp.where(finite[..., None, None], jacobian, 0.0)
    eig = jnp.linalg.eigvals(safe)
    eig = jnp.where(finite[..., None], eig, jnp.nan)
    return classify_eigenvalues(eig, hyperbolic_tol=hyperbolic_tol)


