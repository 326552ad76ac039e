"""An independent reference for period doublings: simple shooting on the PD defining
system with a tight-tolerance Diffrax integrator (no collocation).

Unknowns `y = (x0, T, p)`; equations

    φ_T(x0; p) − x0 = 0                  (periodicity, d equations)
    f(x_ref; p_ref) · (x0 − x_ref) = 0   (a Poincaré section through the guess)
    det(M(x0, T, p) + I) = 0             (a multiplier −1; M the monodromy matrix)

`φ` and `M` integrate `x' = f(x, p)`, `Φ' = f_x Φ` with `Dopri8` and
`PIDController(rtol=atol=1e-12)`; Newton's Jacobian by forward mode through
`diffeqsolve` (`ForwardMode`), so second derivatives of the flow enter exactly. The
collocation result is used only as the starting guess.
"""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np


def shooting_period_doubling(f, args, key, x0, T0, p0, *, rtol=1e-12, atol=1e-12,
                             iterations=8):
    """Newton on the PD shooting system from `(x0, T0, p0)`; `args` a dict whose entry
    `key` is the parameter. Returns `(x0, T, p, residual, multipliers)`."""
    x0 = jnp.asarray(x0, jnp.float64)
    d = x0.shape[0]
    f_ref = f(0.0, x0, {**args, key: p0})
    x_ref = x0

    def flow(y):
        x, T, p = y[:d], y[d], y[d + 1]
        a = {**args, key: p}

        def rhs(t, s, a):
            xx, Phi = s
            J = jax.jacfwd(lambda z: f(t, z, a))(xx)
            return f(t, xx, a), J @ Phi

        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(rhs), diffrax.Dopri8(), 0.0, T, None,
            (x, jnp.eye(d, dtype=x.dtype)), a,
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            adjoint=diffrax.ForwardMode(), max_steps=200_000)
        return sol.ys[0][-1], sol.ys[1][-1]

    def G(y):
        xT, M = flow(y)
        return jnp.concatenate([
            xT - y[:d], jnp.dot(f_ref, y[:d] - x_ref)[None],
            jnp.linalg.det(M + jnp.eye(d, dtype=M.dtype))[None]])

    @jax.jit
    def newton(y):
        return y - jnp.linalg.solve(jax.jacfwd(G)(y), G(y))

    y = jnp.concatenate([x0, jnp.asarray([T0, p0], jnp.float64)])
    for _ in range(iterations):
        y_new = newton(y)
        done = float(jnp.max(jnp.abs(y_new - y))) < 1e-13
        y = y_new
        if done:
            break
    res = float(jnp.max(jnp.abs(jax.jit(G)(y))))
    M = np.asarray(jax.jit(flow)(y)[1])
    return (np.asarray(y[:d]), float(y[d]), float(y[d + 1]), res, np.linalg.eigvals(M))
