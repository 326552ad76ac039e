"""Krylov–Schur restarted Arnoldi (`gru_bif._krylov`) and `leading_modes(method="arnoldi")`
against LAPACK's dense eigenvalues."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gru_bif
from gru_bif import _krylov as K
from gru_bif import dissect as D


def _clustered(d, seed=0):
    """A real, non-normal `d × d` matrix with a known clustered spectrum near the unit
    circle: three complex pairs of modulus 0.999, six real eigenvalues 0.995 − 0.001 i,
    the rest uniform in (−0.99, 0.99)."""
    rng = np.random.default_rng(seed)
    pairs = 0.999 * np.exp(1j * np.array([0.05, 0.17, 0.3]))
    reals = np.concatenate([0.995 - 0.001 * np.arange(6), rng.uniform(-0.99, 0.99, d - 12)])
    D_ = np.zeros((d, d))
    for i, lam in enumerate(pairs):
        D_[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[lam.real, lam.imag], [-lam.imag, lam.real]]
    D_[6:, 6:] = np.diag(reals)
    X = rng.standard_normal((d, d)) / np.sqrt(d) + np.eye(d)
    A = X @ D_ @ np.linalg.inv(X)
    exact = np.concatenate([pairs, pairs.conj(), reals])
    return A, exact[np.argsort(-np.abs(exact), kind="stable")]


@jax.jit
def _dense_run(A, v0):
    """Krylov–Schur on a dense matrix (the matrix traced: one compilation for the
    tests below)."""
    return K.krylov_schur(lambda v: A @ v, v0, nev=8, m=40, tol=1e-10, max_restarts=200)


def _matched_error(got, want):
    """Largest distance of each of `want` to the nearest of `got` and back."""
    got, want = np.asarray(got), np.asarray(want)
    return max(np.abs(got[:, None] - want[None]).min(axis=0).max(),
               np.abs(got[:, None] - want[None]).min(axis=1).max())


def test_sorted_schur_is_a_sorted_schur_form():
    rng = np.random.default_rng(1)
    H = rng.standard_normal((15, 15))  # several complex pairs
    T, Z = (np.asarray(a) for a in jax.jit(K._sorted_schur)(jnp.asarray(H)))
    assert np.abs(Z @ T @ Z.conj().T - H).max() < 1e-13
    assert np.abs(Z.conj().T @ Z - np.eye(15)).max() < 1e-13
    assert np.all(np.tril(T, -1) == 0)
    assert np.all(np.diff(np.abs(np.diag(T))) <= 1e-14)
    assert _matched_error(np.diag(T), np.linalg.eigvals(H)) < 1e-13
    # the leading Schur vectors span an invariant subspace with a real basis (a pair is
    # never cut: p = 5 or 6)
    Q, p = jax.jit(K._real_basis, static_argnums=1)(jnp.asarray(Z), 5)
    Q = np.asarray(Q)[:, : int(p)]
    assert int(p) in (5, 6)
    assert np.abs(Q.T @ Q - np.eye(int(p))).max() < 1e-13
    assert np.abs(H @ Q - Q @ (Q.T @ H @ Q)).max() < 1e-12


def test_krylov_schur_clustered_spectrum_with_complex_pairs():
    A, exact = _clustered(300)
    r = _dense_run(jnp.asarray(A), jnp.asarray(np.random.default_rng(2).standard_normal(300)))
    assert bool(r["converged"]) and int(r["restarts"]) > 0
    lam = np.asarray(r["values"])
    # the 8 leading: the three pairs (|μ| = 0.999) and 0.995, 0.994
    assert _matched_error(lam, exact[:8]) < 1e-8
    lapack = np.linalg.eigvals(A)
    assert _matched_error(lam, lapack[np.argsort(-np.abs(lapack))][:8]) < 1e-8
    assert np.sum(np.abs(lam.imag) > 1e-3) == 6  # both members of each pair
    Y = np.asarray(r["vectors"])
    res = np.linalg.norm(A @ Y - Y * lam, axis=0)
    assert np.all(res <= 1e-10 * np.abs(lam) * 1.01)
    np.testing.assert_allclose(res, np.asarray(r["residuals"]), rtol=0.1, atol=1e-14)


def test_krylov_schur_continues_after_a_breakdown():
    """The start vector lies in a 5-dimensional invariant subspace: Arnoldi breaks down
    after 5 steps and must go on with fresh vectors to find the leading eigenvalues."""
    d = 300
    ev = np.linspace(0.1, 0.9, d)[::-1].copy()
    ev[:5] = 0.5 * ev[:5]  # the start's subspace holds small eigenvalues only
    r = _dense_run(jnp.asarray(np.diag(ev)), jnp.zeros(d).at[:5].set(1.0))
    assert bool(r["converged"])
    assert _matched_error(np.asarray(r["values"]), np.sort(ev)[::-1][:8]) < 1e-9


@pytest.fixture(scope="module")
def gru256():
    """The d = 256 random GRU of `benchmarks/bench_dissect.py` (RESULTS §14); its
    biases are zero, so h = 0 is a fixed point at u = 0: the one stable focus that
    `fixed_points` finds there (measured: |x0| = 1e-64) and where §14 takes the modes."""
    gru = gru_bif.GRU.random(jax.random.split(jax.random.PRNGKey(256))[0], 256, 3,
                             scale=1.2, reset="after")
    x = jnp.zeros(256)
    assert float(jnp.max(jnp.abs(gru(0.0, x, jnp.zeros(3))))) == 0.0
    return gru, x


def test_leading_modes_arnoldi_d256_gru_matches_dense(gru256):
    gru, x = gru256
    J = np.asarray(D._jacobians(gru, x[None], jnp.zeros(3))[0])
    lam_all = np.linalg.eigvals(J)
    lam_all = lam_all[np.argsort(-np.abs(1 + lam_all), kind="stable")]
    lam, vec, complete = D.leading_modes(gru, x, k=6, method="arnoldi")
    assert complete
    # the 6th and 7th multipliers are a conjugate pair, cut at k = 6: the first 5 must
    # all be there, and every returned value among the 7 leading
    assert max(np.min(np.abs(lam - lv)) for lv in lam_all[:5]) < 1e-8
    assert max(np.min(np.abs(lam_all[:7] - lv)) for lv in lam) < 1e-8
    assert np.sum(np.abs(lam.imag) > 1e-6) >= 4  # complex pairs among them
    np.testing.assert_allclose(np.linalg.norm(vec, axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(J @ vec, vec * lam, atol=1e-9)


def test_leading_modes_arnoldi_not_converged_warns(gru256):
    gru, x = gru256
    with pytest.warns(RuntimeWarning, match="not converged"):
        _, _, complete = D.leading_modes(gru, x, k=6, method="arnoldi", max_restarts=1)
    assert not complete


def test_leading_modes_auto(gru256, monkeypatch):
    gru, x = gru256
    lam_d, vec_d, _ = D.leading_modes(gru, x, k=6, method="dense")
    assert D.AUTO_ARNOLDI_MIN_D > 256  # below it: dense
    np.testing.assert_array_equal(D.leading_modes(gru, x, k=6, method="auto")[0], lam_d)
    monkeypatch.setattr(D, "AUTO_ARNOLDI_MIN_D", 256)
    # d = 256: Arnoldi; when it does not converge, dense (no warning)
    lam_a, _, complete = D.leading_modes(gru, x, k=6, method="auto")
    # the 6th and 7th are a conjugate pair, cut: compare the first 5
    assert complete and max(np.abs(lam_a - lv).min() for lv in lam_d[:5]) < 1e-8
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lam_f, vec_f, complete = D.leading_modes(gru, x, k=6, method="auto", max_restarts=1)
    assert complete
    np.testing.assert_array_equal(lam_f, lam_d)
    with pytest.raises(ValueError, match="method"):
        D.leading_modes(gru, x, method="lanczos")
