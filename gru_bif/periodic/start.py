"""Starting a branch of cycles: from a located Hopf point, or from a simulation.

Both return `(cycle_problem, u0)`, ready for

    gru_bif.continuation(cycle_problem, u0[:-1], u0[-1], p_min=..., p_max=..., ds=...)

(the engine first corrects `u0` by Newton at the fixed parameter `u0[-1]`).

**Amplitude at a Hopf point.** Near a Hopf point `(x_H, p_H)` with eigenvalues
`λ(p) = β(p) ± iω(p)`, `β(p_H) = 0`, `β' = dβ/dp`, write `x = x*(p) + z q + z̄ q̄` with
`A q = iω q`, `⟨q, q⟩ = 1` and `x*(p)` the equilibrium. On the centre manifold the normal
form is `ż = (β + iω) z + c₁ z|z|² + …` with `Re c₁ = ω l₁` (the first Lyapunov
coefficient in the normalisation `⟨q, q⟩ = 1`, `⟨p, q⟩ = 1` that `gru_bif` reports). The
cycle is `|z|² = −β/Re c₁ ≈ −β' Δp / (ω l₁)`, run at `θ' ≈ ω`:

    x(t) ≈ x*(p_H + Δp) + 2|z| Re(q e^{2πi t}),   T ≈ 2π/ω,   t ∈ [0, 1].

Its root-mean-square distance from the equilibrium — the *amplitude* used here — is
`√2 |z|` (the mean of `|2|z| Re(q e^{iθ})|²` over θ is `2|z|²|q|²`). So `dp` and
`amplitude` determine each other through

    amplitude² = −2 β' dp / (ω l₁),

which has a solution only on the side where the cycle exists: `dp` must have the sign of
`−l₁/β'` (supercritical, `l₁ < 0`: cycles where the equilibrium is unstable). For the
Hopf normal form `r' = r(p + s r²)`, `θ' = ω` (where `β' = 1`, `l₁ = 2s/ω`) this gives
`amplitude² = −p/s`, the exact radius². The guess is accurate to `O(amplitude²)`; Newton
does the rest.

**Period from a simulation.** After a transient, the state `x_s` is taken as a point of
the cycle; the trajectory from it is sampled on a fine grid and the period is the first
time it crosses the hyperplane through `x_s` orthogonal to `f(x_s)` in the same
direction, near `x_s` (a Poincaré return, linearly interpolated between samples). The
orbit is then interpolated at the collocation nodes (cubic Hermite on the samples, with
the vector field as derivative).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from .._custom_types import Array, Float
from ..branch import Branch, SpecialKind, coefficient_scale, is_degenerate
from ..problem import Problem
from ..collocation.mesh import node_times, uniform_mesh
from .collocation import CollocationProblem


def _hopf_geometry(problem: Problem, x, p, omega_hint):
    """At a Hopf point: `ω`, the right eigenvector `q` (`A q = iωq`, `|q| = 1`), the
    transversality `β' = Re dλ/dp` and the equilibrium's drift `x_p = −A⁻¹F_p`."""
    x = jnp.asarray(x)
    p = jnp.asarray(p, x.dtype)
    F = problem.F
    A = jax.jacfwd(F, argnums=0)(x, p)
    Fp = jax.jacfwd(F, argnums=1)(x, p)
    ev, V = np.linalg.eig(np.asarray(A))
    score = np.where(ev.imag > 0, np.abs(ev - 1j * abs(omega_hint)), np.inf)
    if not np.isfinite(omega_hint):
        score = np.where(ev.imag > 0, np.abs(ev.real), np.inf)
    i = int(np.argmin(score))
    if not np.isfinite(score[i]):
        raise ValueError(
            f"The Jacobian at the Hopf point (p = {float(p)}) has no complex eigenvalue "
            f"pair (eigenvalues {ev}); this is not a Hopf point."
        )
    lam = ev[i]
    q = V[:, i] / np.linalg.norm(V[:, i])
    evl, W = np.linalg.eig(np.asarray(A).T)
    k = int(np.argmin(np.abs(evl - np.conj(lam))))
    pl = W[:, k]  # Aᵀ pl = λ̄ pl  ⇒  p̄ᵀ A = λ p̄ᵀ with p = pl
    x_p = -np.linalg.solve(np.asarray(A), np.asarray(Fp))

    # dA/dp · q along the equilibrium branch: d/dε F_x(x + ε x_p, p + ε) q
    def Aq(xx, pp, v):
        return jax.jvp(lambda y: F(y, pp), (xx,), (v,))[1]

    def dAq(v):
        return jax.jvp(lambda xx, pp: Aq(xx, pp, v), (x, p),
                       (jnp.asarray(x_p, x.dtype), jnp.ones((), x.dtype)))[1]

    dA_q = np.asarray(dAq(jnp.asarray(q.real, x.dtype))) + 1j * np.asarray(
        dAq(jnp.asarray(q.imag, x.dtype))
    )
    dlam = np.vdot(pl, dA_q) / np.vdot(pl, q)
    return float(lam.imag), q, float(dlam.real), x_p, float(lam.real)


def cycle_from_hopf(
    problem: Problem,
    branch: Branch,
    index: "int | None" = None,
    *,
    dp: "float | None" = None,
    amplitude: "float | None" = None,
    ntst: int = 40,
    ncol: int = 4,
    stability: bool = True,
    detect: bool = True,
    side: str = "auto",
) -> tuple[CollocationProblem, Float[Array, " n"]]:
    """A first cycle near a Hopf point located on a branch of equilibria.

    **Arguments:**

    - `problem`: the `gru_bif.Problem` whose equilibria `branch` continues.
    - `branch`: a `gru_bif.Branch` of equilibria with a located Hopf point.
    - `index`: which entry of `branch.special` (default: the first Hopf point).
    - `dp`: the distance in the parameter from the Hopf point; the amplitude then
        follows from `l1` (see the module docstring). With `side="auto"` (default) its
        sign is chosen for you: the side where cycles exist (from `l1` and the
        transversality); with `side="given"` it is kept, and a `dp` on the side
        without cycles raises.
    - `amplitude`: or the cycle's amplitude (root-mean-square distance from the
        equilibrium, = radius for a circle); `dp` then follows from `l1`. Give both to
        bypass `l1` (needed at a degenerate Hopf point, `l1 ≈ 0`).
    - `ntst`, `ncol`, `stability`, `detect`: passed to `CollocationProblem`.

    **Returns:** `(cycle_problem, u0)`: the collocation problem (reference orbit = the
    guess, uniform mesh) and the guess `u0 = (nodes, T, p)`.

    **Raises:** `ValueError` if `problem` and `branch` do not belong together (state
    dimension, parameter name), if the entry is not a Hopf point, if neither or a bad
    `dp`/`amplitude` is given, if `dp` lies on the side without cycles (`side="given"`),
    or if `l1` is too small to convert one into the other.
    """
    if not isinstance(problem, Problem):
        raise ValueError(
            f"`problem` must be a gru_bif.Problem; got {type(problem).__name__}.")
    if not isinstance(branch, Branch):
        raise ValueError(
            f"`branch` must be the gru_bif.Branch of equilibria with the Hopf point; got "
            f"{type(branch).__name__}.")
    if side not in ("auto", "given"):
        raise ValueError(f"side={side!r}; use 'auto' or 'given'.")
    d_branch = branch.x.shape[-1]
    probe = jax.eval_shape(lambda x: problem.F(x, problem.p),
                           jax.ShapeDtypeStruct((d_branch,), branch.x.dtype))
    if probe.shape != (d_branch,):
        raise ValueError(
            f"The branch's states have dimension {d_branch}, but this problem's vector "
            f"field returns shape {probe.shape} for them: pass the problem whose "
            "equilibria the branch continues.")
    if branch.param_name != problem.param.label:
        raise ValueError(
            f"The branch was continued in {branch.param_name!r}, but the problem's "
            f"parameter is {problem.param.label!r}: pass the problem the branch was "
            "computed with.")
    sp = branch.special
    count = int(sp.count)
    kinds = [SpecialKind(int(k)) for k in np.asarray(sp.kind)[:count]]
    if index is None:
        hopfs = [i for i, k in enumerate(kinds) if k == SpecialKind.HOPF]
        if not hopfs:
            raise ValueError(
                "The branch has no Hopf point (special points: "
                f"{[k.label for k in kinds]}). Continue the equilibria over a range "
                "that contains one."
            )
        index = hopfs[0]
    if not 0 <= index < count or kinds[index] != SpecialKind.HOPF:
        raise ValueError(
            f"branch.special[{index}] is not a Hopf point (special points: "
            f"{[k.label for k in kinds]}); pass the index of a 'hopf' entry."
        )
    if dp is None and amplitude is None:
        raise ValueError(
            "Give `dp` (distance in the parameter from the Hopf point, e.g. 1e-3 on the "
            "side where cycles exist) or `amplitude` (e.g. 1e-2)."
        )
    for name, v in (("dp", dp), ("amplitude", amplitude)):
        if v is not None and (not np.isfinite(v) or v == 0):
            raise ValueError(f"{name}={v}; it must be finite and non-zero.")
    if amplitude is not None and amplitude < 0:
        raise ValueError(f"amplitude={amplitude}; it must be positive.")
    x_h = np.asarray(sp.x[index])
    p_h = float(sp.p[index])
    l1 = float(sp.data["l1"][index]) if "l1" in sp.data else float("nan")
    omega_b = float(sp.data["omega"][index]) if "omega" in sp.data else float("nan")
    omega, q, dbeta, x_p, _ = _hopf_geometry(problem, x_h, p_h, omega_b)
    if dp is None or amplitude is None:
        scale = abs(dbeta) / omega
        degenerate = is_degenerate(
            l1, max(coefficient_scale("l1", {"omega": omega}), scale), x_h.dtype
        )
        if not np.isfinite(l1) or degenerate or dbeta == 0:
            raise ValueError(
                f"The Hopf point at p = {p_h} is degenerate (l1 = {l1}, dβ/dp = "
                f"{dbeta}): the amplitude does not follow from the distance in the "
                "parameter, and the side where cycles exist is unknown. Give both "
                "`dp` (try each sign: cycles exist on one side, or on both near a "
                "Bautin point) and `amplitude` (e.g. 1e-2); near a Bautin point "
                "(l1 = 0 on a Hopf curve) start from a nearby non-degenerate Hopf "
                "point and follow the cycles through the fold of cycles instead."
            )
        if amplitude is None:
            a2 = -2 * dbeta * dp / (omega * l1)
            if a2 <= 0 and side == "auto":
                dp, a2 = -dp, -a2
            if a2 <= 0:
                raise ValueError(
                    f"dp={dp}: at this Hopf point (l1 = {l1:.4g}, dβ/dp = {dbeta:.4g}) "
                    f"cycles exist for dp of the other sign; use dp={-dp}."
                )
            amplitude = math.sqrt(a2)
        else:
            dp = -omega * l1 * amplitude**2 / (2 * dbeta)
    z = amplitude / math.sqrt(2.0)
    dtype = jnp.asarray(sp.x).dtype
    mesh = uniform_mesh(ntst, dtype)
    t = np.asarray(node_times(mesh, ncol))
    center = x_h + x_p * dp
    nodes = center[None, :] + 2 * z * np.real(q[None, :] * np.exp(2j * np.pi * t)[:, None])
    nodes = jnp.asarray(nodes, dtype)
    cp = CollocationProblem(problem, nodes, ntst=ntst, ncol=ncol, mesh=mesh,
                            stability=stability, detect=detect)
    return cp, cp.pack(nodes, 2 * np.pi / omega, p_h + dp)


def cycle_from_simulation(
    problem: Problem,
    x0,
    t_transient: float,
    *,
    p=None,
    max_period: "float | None" = None,
    samples: int = 20_001,
    ntst: int = 40,
    ncol: int = 4,
    stability: bool = True,
    detect: bool = True,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    return_tol: float = 1e-2,
) -> tuple[CollocationProblem, Float[Array, " n"]]:
    """A first cycle from a simulated trajectory that settles on a limit cycle.

    **Arguments:**

    - `problem`: the `gru_bif.Problem`; `p`: the parameter value (default
        `problem.p`).
    - `x0`: the initial state; `t_transient`: how long to integrate before the state is
        taken to be on the cycle.
    - `max_period`: the longest period looked for (default `t_transient`); the
        trajectory from the settled state is sampled at `samples` times over it.
    - `ntst`, `ncol`, `stability`, `detect`: passed to `CollocationProblem`.
    - `rtol`, `atol`: tolerances of the integrations (`gru_bif.simulate`).
    - `return_tol`: the first return must come back within this fraction of the orbit's
        diameter of the start.

    **Returns:** `(cycle_problem, u0)` as `cycle_from_hopf` does; `u0[-2]` is the
    detected period.

    **Raises:** `ValueError` if the trajectory settles on an equilibrium, or does not
    return near its start within `max_period` (not yet on a cycle: increase
    `t_transient`; a longer period: increase `max_period`; or not periodic).
    """
    from ..simulate import simulate

    if not t_transient > 0:
        raise ValueError(f"t_transient={t_transient}; it must be positive.")
    max_period = float(t_transient if max_period is None else max_period)
    if not max_period > 0:
        raise ValueError(f"max_period={max_period}; it must be positive.")
    if samples < 100:
        raise ValueError(f"samples={samples}; use at least 100 (default 20001).")
    if p is not None:
        problem = problem.with_p(p)
    p = problem.p
    x0 = jnp.asarray(x0)
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        x0 = x0.astype(jnp.result_type(float))
    dtype = x0.dtype
    # one integration: the transient, then `samples` points over `max_period`
    ts = jnp.concatenate([
        jnp.zeros((1,), dtype),
        t_transient + jnp.linspace(0.0, max_period, samples, dtype=dtype),
    ])
    traj = simulate(problem, None, x0, ts, rtol=rtol, atol=atol)
    X = np.asarray(traj.xs[1:])
    tsn = np.asarray(ts[1:]) - t_transient
    x_s = X[0]
    xs0 = traj.xs[1]
    FX = np.asarray(jax.vmap(lambda x: problem.F(x, p))(traj.xs[1:]))
    f_s = FX[0]
    dist = np.linalg.norm(X - x_s, axis=1)
    diam = float(np.max(dist))
    scale = max(1.0, float(np.max(np.abs(x_s))))
    if diam < 1e-6 * scale or np.linalg.norm(f_s) < 1e-8 * scale:
        raise ValueError(
            f"The trajectory settled on an equilibrium near {x_s} (it moves by {diam:.3g} "
            f"over {max_period}); start elsewhere or at another parameter value."
        )
    g = (X - x_s) @ f_s
    up = np.nonzero((g[:-1] < 0) & (g[1:] >= 0))[0]
    # returns near the start (the section is crossed elsewhere too)
    near = up[dist[up] < 0.25 * diam] if up.size else up
    if near.size == 0:
        raise ValueError(
            f"No return to the start within max_period={max_period}: the trajectory "
            "never crossed back through its Poincaré section near the start. Increase "
            "`max_period` (a longer cycle) or `t_transient` (not yet on the cycle)."
        )
    i = int(near[0])
    frac = -g[i] / (g[i + 1] - g[i])
    period = float(tsn[i] + frac * (tsn[i + 1] - tsn[i]))
    x_ret = X[i] + frac * (X[i + 1] - X[i])
    miss = float(np.linalg.norm(x_ret - x_s))
    if miss > return_tol * diam:
        raise ValueError(
            f"The first return (after {period:.6g}) misses the start by {miss:.3g} "
            f"({miss / diam:.2%} of the orbit's size, more than return_tol="
            f"{return_tol}): the trajectory is not yet on a cycle, or is not periodic. "
            "Increase `t_transient`."
        )
    mesh = uniform_mesh(ntst, dtype)
    t_nodes = np.asarray(node_times(mesh, ncol)) * period
    nodes = jnp.asarray(_hermite(tsn, X, FX, t_nodes), dtype)
    cp = CollocationProblem(problem, nodes, ntst=ntst, ncol=ncol, mesh=mesh,
                            stability=stability, detect=detect)
    return cp, cp.pack(nodes, period, p)


def _hermite(ts, xs, fs, t):
    """Cubic Hermite interpolation of samples `xs` with derivatives `fs` at times `t`
    (error `O(Δt⁴)`: a seed for Newton, accurate to about 1e-10 on a fine grid)."""
    i = np.clip(np.searchsorted(ts, t, side="right") - 1, 0, len(ts) - 2)
    h = ts[i + 1] - ts[i]
    s = ((t - ts[i]) / h)[:, None]
    h = h[:, None]
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    return h00 * xs[i] + h10 * h * fs[i] + h01 * xs[i + 1] + h11 * h * fs[i + 1]
