"""Meshes and the local polynomial basis of orthogonal collocation (Gauss–Legendre
points, Lagrange polynomials on equally spaced nodes; de Boor & Swartz 1973; AUTO): the
numerical core shared by periodic orbits (`gru_bif.periodic`) and connecting orbits
(`gru_bif.homoclinic`)."""

import functools
import math

import jax.numpy as jnp
import numpy as np

from .._custom_types import Array, Float

MAX_NCOL = 7


# --------------------------------------------------------------------------- basis
@functools.lru_cache(maxsize=16)
def basis(m: int):
    """Static data of the degree-`m` local basis (NumPy, float64):

    - `s`: the `m + 1` equally spaced nodes on `[0, 1]`;
    - `c`, `w`: Gauss–Legendre points and weights on `[0, 1]` (weights sum to 1);
    - `L`, `Ld`: `(m, m + 1)` Lagrange basis values and first derivatives at `c`;
    - `Dm`: `(m + 1,)` the (constant) `m`-th derivatives of the basis polynomials;
    - `den`: `(m + 1,)` the Lagrange denominators `∏_{i≠l}(s_l − s_i)`;
    - `cm`: the error constant `max_s |∏_k (s − c_k)| / (m + 1)!` (the interpolation
        error through the Gauss points of a function with `(m+1)`-th derivative 1).
    """
    s = np.linspace(0.0, 1.0, m + 1)
    c, w = np.polynomial.legendre.leggauss(m)
    c, w = (c + 1) / 2, w / 2
    L = np.zeros((m, m + 1))
    Ld = np.zeros((m, m + 1))
    Dm = np.zeros((m + 1,))
    den = np.zeros((m + 1,))
    for l in range(m + 1):
        others = np.delete(s, l)
        den[l] = np.prod(s[l] - others)
        coef = np.poly(others) / den[l]
        L[:, l] = np.polyval(coef, c)
        Ld[:, l] = np.polyval(np.polyder(coef), c)
        Dm[l] = coef[0] * math.factorial(m)
    grid = np.linspace(0.0, 1.0, 2001)
    cm = float(np.max(np.abs(np.prod(grid[:, None] - c[None, :], axis=1))))
    cm /= math.factorial(m + 1)
    for a in (s, c, w, L, Ld, Dm, den):
        a.setflags(write=False)
    return s, c, w, L, Ld, Dm, den, cm


def lagrange(sloc, m: int):
    """Lagrange basis of the `m + 1` equally spaced nodes at local points `sloc`
    (any shape `S`), shape `S + (m + 1,)`. Traceable."""
    s, *_, den, _ = basis(m)
    diffs = sloc[..., None] - jnp.asarray(s, sloc.dtype)  # S + (m+1,)
    eye = np.eye(m + 1, dtype=bool)
    terms = jnp.where(eye, jnp.ones((), sloc.dtype), diffs[..., None, :])  # S+(m+1,m+1)
    return jnp.prod(terms, axis=-1) / jnp.asarray(den, sloc.dtype)


@functools.lru_cache(maxsize=64)
def block_index(ntst: int, ncol: int) -> np.ndarray:
    """`idx[j, l]`: the node index of local node `l` (0..m) of interval `j`, with the
    last node of the last interval wrapping to node 0 (periodicity)."""
    j = np.arange(ntst)[:, None]
    l = np.arange(ncol + 1)[None, :]
    idx = (j * ncol + l) % (ntst * ncol)
    idx.setflags(write=False)
    return idx


def uniform_mesh(ntst: int, dtype=None) -> Float[Array, " ntst+1"]:
    """`ntst` equal intervals on `[0, 1]`."""
    return jnp.linspace(0.0, 1.0, ntst + 1, dtype=dtype or jnp.result_type(float))


def node_times(mesh: Float[Array, " N+1"], ncol: int) -> Float[Array, " N*ncol"]:
    """Normalised times `t ∈ [0, 1)` of the `N ncol` nodes on `mesh` (node-major, the
    order of the unknowns): `τ_j + h_j l / ncol`, `l = 0..ncol − 1`."""
    mesh = jnp.asarray(mesh)
    h = jnp.diff(mesh)
    frac = jnp.arange(ncol, dtype=mesh.dtype) / ncol
    return (mesh[:-1, None] + h[:, None] * frac[None, :]).reshape(-1)
