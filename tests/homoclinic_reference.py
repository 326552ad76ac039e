"""Independent reference values for homoclinic bifurcations of planar ODEs (numpy, jax and
diffrax only; JAX must run in float64 -- the tests' conftest enables ``jax_enable_x64``).

Splitting function S(p) (``make_splitting``):
1. Saddle x_s by Newton from ``x_saddle_guess`` (``jax.jacfwd``, ``numpy.linalg.solve``);
   unit eigenvectors v_u (lam_u > 0), v_s (lam_s < 0), oriented continuously in p: like the
   eigenvector at p_ref with its largest component made positive, times ``branch`` (the
   unstable branch forming the loop) resp. ``stable_branch`` (the one it returns along).
2. Section: the line through x_s spanned by w = v_u + v_s (diagonal of the hyperbolic sector
   between leaving and returning branch), normal n.  The loop starts on the side n.v_u of it
   and ends on the side n.v_s, so it crosses it (once, for the examples below).
3. W^u is followed forward from x_s + eps v_u, W^s backward from x_s + eps v_s (Dopri8,
   PIDController rtol = atol), each to its first crossing of the line: a diffrax Event
   without root finder stops at the end of the step where n.(x - x_s) changes sign (a second
   one at |x - x_s| = r_max catches escapes); the crossing time T is refined by Newton, each
   iterate a fresh solve from the initial point to exactly T (no dense-output error).
4. S(p) = w.(X_u - X_s)/|w|: continuous, zero with a sign change at a (transversal)
   homoclinic orbit; the O(eps^2) offset of the initial points from the true manifolds is
   contracted while the orbit leaves the saddle, so S is exact to O(eps^2) + solver error.
``homoclinic_parameter`` scans S on a grid of the bracket (S is undefined where a manifold
misses the section, e.g. for D < 0.1054 in ``ab``), then runs Illinois regula falsi with
every third step a bisection until the bracket is narrower than ``tol``.
"""
import functools
import time

import diffrax
import jax
import jax.numpy as jnp
import numpy as np


@functools.lru_cache(maxsize=16)
def _solvers(f, rtol, t_max, r_max):
    # a = (time direction +-1, user args, x_s, n)
    term = diffrax.ODETerm(lambda t, y, a: a[0] * f(t, y, a[1]))
    kw = dict(stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol),
              max_steps=100_000, throw=False)
    event = diffrax.Event((lambda t, y, a, **_: jnp.dot(a[3], y - a[2]),  # the section
                           lambda t, y, a, **_: r_max**2 - jnp.sum((y - a[2]) ** 2)))  # escape

    @jax.jit
    def coarse(x0, a):
        sol = diffrax.diffeqsolve(term, diffrax.Dopri8(), 0.0, t_max, None, x0, a, event=event, **kw)
        return sol.ts[-1], sol.event_mask[0]

    @jax.jit
    def flow(x0, T, a):
        return diffrax.diffeqsolve(term, diffrax.Dopri8(), 0.0, T, None, x0, a, **kw).ys[-1]

    return coarse, flow


def make_splitting(f, args_of, x_saddle_guess, p_ref, *, eps=1e-7, t_max=400.0, rtol=1e-13,
                   r_max=1e3, branch=1, stable_branch=1):
    """p -> (S(p), saddle), S of the module docstring; raises if S(p) is undefined."""
    assert jnp.asarray(1.0).dtype == jnp.float64, "enable jax_enable_x64 first"
    coarse, flow = _solvers(f, rtol, t_max, r_max)
    F = jax.jit(lambda x, a: f(0.0, x, a))
    DF = jax.jit(jax.jacfwd(F))
    ref = {}

    def saddle(p):
        a, x = args_of(p), np.asarray(x_saddle_guess, dtype=np.float64)
        for _ in range(60):
            x = x + (dx := np.linalg.solve(np.asarray(DF(x, a)), -np.asarray(F(x, a))))
            if np.max(np.abs(dx)) <= 1e-15 * (1.0 + np.max(np.abs(x))):
                break
        lam, V = np.linalg.eig(np.asarray(DF(x, a)))
        if np.iscomplexobj(lam) or not lam.min() < 0 < lam.max():
            raise ValueError(f"no saddle at p={p}: eigenvalues {lam}")
        vu, vs = V[:, np.argmax(lam)], V[:, np.argmin(lam)]
        if not ref:  # orientation at the first p: largest component positive
            ref["u"], ref["s"] = (v * np.sign(v[np.argmax(np.abs(v))]) for v in (vu, vs))
        vu, vs = branch * np.sign(vu @ ref["u"]) * vu, stable_branch * np.sign(vs @ ref["s"]) * vs
        return x, vu, vs, a

    def crossing(x0, a):
        T, hit = coarse(x0, a)
        if not bool(hit):
            raise RuntimeError("manifold did not cross the section before t_max")
        T, n, xs, s = float(T), np.asarray(a[3]), np.asarray(a[2]), a[0]
        for _ in range(8):
            X = np.asarray(flow(x0, T, a))
            T += (dT := -(n @ (X - xs)) / (n @ (s * np.asarray(F(X, a[1])))))
            if abs(dT) < 1e-14 * max(1.0, T):
                break
        if not np.all(np.isfinite(X := np.asarray(flow(x0, T, a)))):
            raise RuntimeError("solve failed")
        return X

    def splitting(p):
        xs, vu, vs, args = saddle(p)
        w = (vu + vs) / np.linalg.norm(vu + vs)
        n = np.array([-w[1], w[0]])
        Xu, Xs = (crossing(xs + eps * v, (d, args, xs, n)) for v, d in ((vu, 1.0), (vs, -1.0)))
        return float(w @ (Xu - Xs)), xs

    saddle(p_ref)  # fixes the orientation
    return splitting


def homoclinic_parameter(f, args_of, x_saddle_guess, p_lo, p_hi, *, eps=1e-7, tol=1e-12,
                         t_max=400.0, rtol=1e-13, r_max=1e3, branch=1, stable_branch=1,
                         n_scan=8):
    """f(t, x, args) a planar vector field (diffrax signature); args_of(p) -> args.

    [p_lo, p_hi] brackets the homoclinic parameter: S is evaluated at ``n_scan`` + 1 points
    and the first neighbouring pair with opposite signs is refined.  ``branch`` and
    ``stable_branch`` (+-1) select the loop's manifold branches (module docstring).
    Returns (p_hom, saddle) with p_hom to about ``tol``.
    """
    S = make_splitting(f, args_of, x_saddle_guess, 0.5 * (p_lo + p_hi), eps=eps, t_max=t_max,
                       rtol=rtol, r_max=r_max, branch=branch, stable_branch=stable_branch)
    grid, vals = np.linspace(p_lo, p_hi, n_scan + 1), []
    for p in grid:  # S may be undefined (nan) near an end: look for a sign change
        try:
            vals.append(S(p)[0])
        except (RuntimeError, ValueError):  # LinAlgError is a ValueError
            vals.append(np.nan)
    for a, b, fa, fb in zip(grid, grid[1:], vals, vals[1:]):
        if fa * fb <= 0:
            break
    else:
        raise ValueError(f"no sign change of the splitting on {grid}: {vals}")
    a, b = float(a), float(b)
    side = k = 0  # Illinois: halve the f of an end kept twice; every third step bisect
    while b - a > tol and fa != 0 and fb != 0:
        k += 1
        c = 0.5 * (a + b) if k % 3 == 0 else (a * fb - b * fa) / (fb - fa)
        fc = S(c := min(max(c, a + tol / 4), b - tol / 4))[0]
        if np.sign(fc) == np.sign(fa):
            a, fa, fb, side = c, fc, (fb / 2 if side == -1 else fb), -1
        else:
            b, fb, fa, side = c, fc, (fa / 2 if side == 1 else fa), 1
    p = a if fa == 0 else b if fb == 0 else (a * fb - b * fa) / (fb - fa)
    return p, S(p)[1]


def ab_field(t, x, D, B=14.0, beta=2.0):
    """AUTO demo `ab`: x' = -x + D(1-x)e^y, y' = -y + D B (1-x) e^y - beta y."""
    e = (1.0 - x[0]) * jnp.exp(x[1])
    return jnp.stack([-x[0] + D * e, -x[1] + D * B * e - beta * x[1]])


def bt_field(t, x, b1, b2=-0.25, s=-1.0):
    """Bogdanov-Takens normal form x' = y, y' = b1 + b2 x + x^2 + s x y."""
    return jnp.stack([x[1], b1 + b2 * x[0] + x[0] ** 2 + s * x[0] * x[1]])


# name: (field, saddle guess, p_lo, p_hi, branch, stable_branch)
CASES = {
    "ab": (ab_field, (0.334, 1.56), 0.1053, 0.10573, 1, -1),
    "bt": (bt_field, (0.3, 0.0), -0.015, -0.012, -1, -1),
}


def compute(name, eps=1e-7, rtol=1e-14, tol=1e-15):
    field, guess, lo, hi, bu, bs = CASES[name]
    return homoclinic_parameter(field, lambda p: p, guess, lo, hi, eps=eps, rtol=rtol, tol=tol,
                                branch=bu, stable_branch=bs)


# compute(name) (eps=1e-7, rtol=1e-14): (p_hom, (saddle x, saddle y)).  Spread of p_hom over
# eps in {1e-5..1e-8} x rtol in {1e-12, 1e-13, 1e-14}: ab 5e-16, bt 2e-13 (set by rtol=1e-12;
# 1.4e-14 at rtol=1e-13, 1e-15 at rtol=1e-14).  S'(p_hom) is about -2300 (ab), -2.15 (bt).
REFERENCE = {
    "ab": (0.10550707003987275, (0.33492945616063502, 1.5630041287496299)),
    "bt": (-0.014559853916112503, (0.29873788854510841, 0.0)),
}

if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    for name, (p_ref, _) in REFERENCE.items():
        t0 = time.perf_counter()
        p, xs = compute(name)
        print(f"{name}: ({p:.17g}, ({xs[0]:.17g}, {xs[1]:.17g}))  {time.perf_counter() - t0:.1f} s")
        ps = [compute(name, eps=e, rtol=r)[0] for e in (1e-6, 1e-7, 1e-8) for r in (1e-12, 1e-13)]
        print(f"  eps x rtol spread {max(ps) - min(ps):.1e}, max |p - REFERENCE| "
              f"{max(abs(q - p_ref) for q in ps):.1e}, |p - REFERENCE| {abs(p - p_ref):.1e}")
