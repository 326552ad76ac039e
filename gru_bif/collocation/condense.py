"""Condensation of a collocation system (AUTO's strategy), shared by periodic orbits
and homoclinic orbits.

A collocation boundary-value problem on `N` mesh intervals of degree `m` in dimension
`d` has, per interval `j`, `m d` collocation equations in the interval's `m + 1` nodes
and a few *global* unknowns `G` (period and parameter; saddle and parameters), plus a
few *rows* that couple everything (phase condition, boundary conditions, the
pseudo-arclength row). In each interval the collocation equations give its interior
nodes and its right node in terms of its left node and `G` (one `m d × m d` solve per
interval, all at once); what remains is one block equation per mesh interval in the
mesh-point values, and the rows — a system of size `(#mesh points) d + #G`, factorised
by LU with pivoting. Chaining the intervals instead (single shooting) would multiply
the transfer matrices and lose the unstable directions of long orbits; the pivoted
reduced solve keeps them. Work: `O(N m³ d³)` for the local solves plus the reduced LU,
against `O((N m d)³)` for a dense LU of the whole system.
"""

import jax
import jax.numpy as jnp

from .._linalg import lu_solve_det


def condensed_solve(A, aG, rows_X, rows_G, rhs, *, periodic: bool, with_det: bool = False):
    """Solve the bordered collocation system by condensation.

    **Arguments:**

    - `A`: `(N, m d, (m + 1) d)` each interval's collocation Jacobian w.r.t. its nodes
        (node-major: left node first, right node last);
    - `aG`: `(N, m d, g)` w.r.t. the `g` global unknowns;
    - `rows_X`: `(r, n_nodes, d)` the coupling rows' coefficients on the nodes
        (`n_nodes = N m` periodic — the last interval's right node is node 0 — or
        `N m + 1` open); `rows_G`: `(r, g)` on the globals; `r = g` (periodic) or
        `d + g` (open);
    - `rhs`: `(N m d + r,)` the collocation right-hand sides (interval-major), then
        the rows'.
    - `with_det`: also return a scaled determinant with the sign of the whole
        system's determinant up to a fixed sign (for branch-point tests).

    **Returns:** the solution in the order `(nodes, globals)`, or `(x, det)`.
    """
    N, md, md1 = A.shape
    d = md1 - md
    m = md // d
    g = aG.shape[-1]
    dtype = rhs.dtype
    nX_rows = N * md
    A = A.astype(dtype)
    A_L, S = A[:, :, :d], A[:, :, d:]
    rc = rhs[:nX_rows].reshape(N, md)
    B = jnp.concatenate([rc[:, :, None], A_L, aG.astype(dtype)], axis=-1)

    def local_solve(Sj, Bj):
        lu, piv = jax.scipy.linalg.lu_factor(Sj)
        diag = jnp.diagonal(lu)
        swaps = jnp.sum(piv != jnp.arange(Sj.shape[0]))
        sgn = jnp.prod(jnp.sign(diag)) * jnp.where(swaps % 2 == 0, 1.0, -1.0)
        return jax.scipy.linalg.lu_solve((lu, piv), Bj), sgn

    # one interval at a time (`lax.map`, not `vmap`): a batched LAPACK LU inside a
    # compiled loop can deadlock jaxlib 0.10.2's CPU thread pool when two run at once
    # (each waits on sub-tasks that only the other, blocked, thread could run; seen on
    # 2 cores); unbatched calls run inline. (An elimination written in JAX operations
    # for small blocks doubled the compile time.)
    Z, sgn = jax.lax.map(lambda a: local_solve(*a), (S, B))  # (N, m d, 1 + d + g)
    nI = (m - 1) * d
    ZI, ZR = Z[:, :nI], Z[:, nI:]
    z_I, G_I, gG_I = ZI[..., 0], ZI[..., 1:1 + d], ZI[..., 1 + d:]
    z_R, G_R, gG_R = ZR[..., 0], ZR[..., 1:1 + d], ZR[..., 1 + d:]
    P = N if periodic else N + 1  # mesh points carrying unknowns
    # transfer rows: δmesh_{j+1} + G_R δmesh_j + gG_R δG = z_R
    rowsN = jnp.arange(N)
    sel_j = (rowsN[:, None] == jnp.arange(P)[None, :]).astype(dtype)  # (N, P)
    nxt = (rowsN + 1) % P if periodic else rowsN + 1
    sel_n = (nxt[:, None] == jnp.arange(P)[None, :]).astype(dtype)
    eye = jnp.eye(d, dtype=dtype)
    top = (sel_j[:, None, :, None] * G_R[:, :, None, :]
           + sel_n[:, None, :, None] * eye[None, :, None, :]).reshape(N * d, P * d)
    top = jnp.concatenate([top, gG_R.reshape(N * d, g)], axis=1)

    def reduce_row(cX, cG):
        cX = cX.astype(dtype)
        mesh_nodes = cX[: N * m].reshape(N, m, d)
        c_L = mesh_nodes[:, 0]
        c_I = mesh_nodes[:, 1:].reshape(N, nI)
        row_L = c_L - jnp.einsum("ji,jid->jd", c_I, G_I)
        if not periodic:
            row_L = jnp.concatenate([row_L, cX[N * m:N * m + 1]], axis=0)
        row_G = cG.astype(dtype) - jnp.einsum("ji,jig->g", c_I, gG_I)
        return jnp.concatenate([row_L.reshape(-1), row_G]), jnp.sum(c_I * z_I)

    red_rows, shifts = jax.vmap(reduce_row)(rows_X, rows_G)
    M = jnp.concatenate([top, red_rows], axis=0)
    rr = jnp.concatenate([z_R.reshape(-1), rhs[nX_rows:] - shifts])
    y, det = lu_solve_det(M, rr)
    dP = y[: P * d].reshape(P, d)
    dG = y[P * d:]
    dI = z_I - jnp.einsum("jid,jd->ji", G_I, dP[:N]) - jnp.einsum("jig,g->ji", gG_I, dG)
    dX = jnp.concatenate([dP[:N, None, :], dI.reshape(N, m - 1, d)], axis=1).reshape(-1, d)
    if not periodic:
        dX = jnp.concatenate([dX, dP[N:]], axis=0)
    x = jnp.concatenate([dX.reshape(-1), dG])
    if with_det:
        return x, jnp.prod(sgn).astype(dtype) * det
    return x
