"""Diagram losses: how far a bifurcation diagram is from the one wanted.

All functions take the fixed-shape results of `gru_bif.continuation` (a `Branch`, its
`SpecialPoints` NaN-padded to a static capacity) and return JAX scalars or fixed-shape
arrays, so they work under `jit`, `vmap` and `grad`. Gradients reach the problem's
arguments (e.g. every weight of a GRU) through the implicit derivatives that the
continuation attaches to located points (`gru_bif.differentiate`): the continuation loop
itself is never differentiated.

Two ingredients, after Szep, Dalchau & Csikász-Nagy, *Parameter inference with
bifurcation diagrams* (NeurIPS 2021):

- [`gru_bif.losses.bifurcation_distance`][]: located bifurcations of one kind against
    target parameter values. Each target is matched to its nearest located point (a
    greedy one-to-one matching, [`gru_bif.losses.match_targets`][]); matched pairs cost
    their squared distance, a target with no point left costs a constant
    `missing_penalty`, and located points left over (extras) cost `extra_weight` times
    their squared distance to the nearest target.
- [`gru_bif.losses.bifurcation_measure`][]: a smooth term that is small where the branch
    is *close* to a bifurcation of the kind, so that gradient descent can create one
    where there is none yet (a distance term alone has no gradient then). See its
    docstring for the test quantities used.

[`gru_bif.losses.bifurcation_loss`][] adds the two (the measure only for targets left
without a point); [`gru_bif.losses.hysteresis_loss`][] (two folds at `p1 < p2`) and
[`gru_bif.losses.hopf_loss`][] (a Hopf point at `p*`, optionally supercritical) are
convenience wrappers. [`gru_bif.losses.cycle_period_loss`][] is a cycle objective: the
period of the periodic orbit at a given input, differentiated by the implicit function
theorem on the collocation equations (`gru_bif.periodic.cycle_period`). Train with
[`gru_bif.training.fit`][] or any optax loop.

!!! example

    ```python
    def loss(gru):
        pr = gru_bif.Problem.from_gru(gru, "u[0]")
        b = gru_bif.continuation(pr, x0, -3.0, p_min=-3.0, p_max=3.0, ds=0.05, throw=False)
        return gru_bif.losses.hysteresis_loss(pr, b, -0.5, 0.5)

    jax.grad(loss)(gru)   # a GRU of gradients, one per weight
    ```

**Discontinuities.** The number of located points changes when bifurcations appear or
vanish (folds are born in pairs at a cusp, Hopf points at Bogdanov–Takens or double-Hopf
points); the loss then jumps. `missing_penalty` should exceed the squared distances that
matter (so that a new point always lowers the loss) — the default 1.0 suits parameter
ranges of a few units. Training loops should keep the best iterate
([`gru_bif.training.fit`][] does) and clip gradients (`optax.clip_by_global_norm`).

This module is long because it is a catalogue: one short, documented loss per
diagram feature (about twenty), each independent of the others.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from ._compile import filter_jit, jit
from ._custom_types import Array, Bool, Float, Int, Scalar
from ._util import stop_gradient_tree
from .bifurcations.test_functions import bialternate
from .branch import Branch, SpecialKind
from .problem import Problem

__all__ = [
    "located",
    "match_targets",
    "bifurcation_distance",
    "bifurcation_measure",
    "bifurcation_loss",
    "hysteresis_loss",
    "hopf_loss",
    "cycle_period_loss",
]

_KINDS_WITH_MEASURE = (SpecialKind.FOLD, SpecialKind.HOPF)


# --------------------------------------------------------------------------- checks
def _check_kind(kind) -> SpecialKind:
    if isinstance(kind, str):
        return SpecialKind.from_label(kind)
    if isinstance(kind, int) and not isinstance(kind, bool):
        try:
            return SpecialKind(kind)
        except ValueError:
            pass
    raise ValueError(
        f"`kind` must be a gru_bif.SpecialKind (e.g. SpecialKind.FOLD) or its label "
        f"('fold', 'hopf', ...); got {kind!r}."
    )


def _check_targets(targets, target_mask, dtype):
    """Shape checks on the host; returns arrays (the masking happens traced)."""
    targets = jnp.asarray(targets, dtype)
    if targets.ndim == 0:
        targets = targets[None]
    if targets.ndim != 1:
        raise ValueError(
            f"`targets` must be a scalar or a 1-D array of parameter values; got shape "
            f"{targets.shape}. To compare many systems, jax.vmap over the loss."
        )
    if target_mask is None:
        target_mask = jnp.ones(targets.shape, bool)
    else:
        target_mask = jnp.asarray(target_mask, bool)
        if target_mask.shape != targets.shape:
            raise ValueError(
                f"`target_mask` has shape {target_mask.shape}; it must match `targets` "
                f"{targets.shape}."
            )
    return targets, target_mask


def _check_measure_args(problem, kind, hopf_method, temperature, d):
    if kind not in _KINDS_WITH_MEASURE:
        raise ValueError(
            f"the bifurcation measure supports kind=SpecialKind.FOLD or "
            f"SpecialKind.HOPF; got {kind.label!r} (pass measure_weight=0 for other "
            "kinds)."
        )
    if not isinstance(problem, Problem):
        raise ValueError(
            "`problem` must be the gru_bif.Problem the branch was continued for; got "
            f"{type(problem).__name__}."
        )
    if hopf_method not in ("auto", "bialternate", "eigen"):
        raise ValueError(
            f"hopf_method={hopf_method!r}; use 'auto', 'bialternate' or 'eigen'."
        )
    if isinstance(temperature, (int, float)) and not temperature > 0:
        raise ValueError(f"temperature={temperature}; it must be positive.")
    if hopf_method == "auto":
        hopf_method = "bialternate" if d <= 12 else "eigen"
    return hopf_method


# --------------------------------------------------------------------------- matching
def located(branch: Branch, kind) -> tuple[Float[Array, " K"], Bool[Array, " K"]]:
    """The located special points of one kind: `(p, mask)`, both of the branch's special
    capacity `K`. `p` is zero (not NaN) where `mask` is False, so arithmetic on it never
    produces NaN gradients; `p` carries the implicit derivatives of the located points.

    **Arguments:**

    - `branch`: a `gru_bif.Branch`.
    - `kind`: a `gru_bif.SpecialKind` or its label (`"fold"`, `"hopf"`, ...).
    """
    return _located(branch, _check_kind(kind))


def _located(branch, kind):
    sp = branch.special
    mask = (sp.kind == kind) & jnp.isfinite(sp.p)
    return jnp.where(mask, sp.p, 0.0), mask


def match_targets(
    points: Float[Array, " K"],
    point_mask: Bool[Array, " K"],
    targets: Float[Array, " T"],
    target_mask: Bool[Array, " T"] | None = None,
) -> Int[Array, " T"]:
    """Greedy one-to-one matching of targets to points, nearest pairs first.

    Repeatedly takes the closest (target, point) pair among those not yet matched —
    `min(T, K)` rounds of an argmin over the fixed `T × K` distance table, so shapes stay
    static. The matching is piecewise constant in the values (no gradient flows through
    it; gradients flow through the distances of the matched pairs).

    **Arguments:**

    - `points`, `point_mask`: located parameter values `(K,)` and which are real.
    - `targets`, `target_mask`: target values `(T,)` and which are real (default all).

    **Returns:** `(T,)` ints: the index of the point matched to each target, or -1 where
    none is left (more targets than points, or a masked target).
    """
    points = jnp.asarray(points)
    targets, target_mask = _check_targets(targets, target_mask, points.dtype)
    return _match(points, jnp.asarray(point_mask, bool), targets, target_mask)


@jit
def _match(points, point_mask, targets, target_mask):
    points = jax.lax.stop_gradient(points)
    targets = jax.lax.stop_gradient(targets)
    T, K = targets.shape[0], points.shape[0]
    D = (points[None, :] - targets[:, None]) ** 2
    ok = target_mask[:, None] & point_mask[None, :] & jnp.isfinite(D)
    D = jnp.where(ok, D, jnp.inf)

    def body(_, carry):
        D, assign = carry
        flat = jnp.argmin(D)
        t, k = flat // K, flat % K
        found = jnp.isfinite(D[t, k])
        assign = jnp.where(found, assign.at[t].set(k.astype(jnp.int32)), assign)
        D = jnp.where(found, D.at[t, :].set(jnp.inf).at[:, k].set(jnp.inf), D)
        return D, assign

    assign = -jnp.ones((T,), jnp.int32)
    _, assign = jax.lax.fori_loop(0, min(T, K), body, (D, assign))
    return assign


def _distance_parts(p, mask, targets, target_mask, extra_weight):
    """Per-target squared distances (0 where missing), the missing mask, the extras'
    cost, and the assignment."""
    target_mask = target_mask & jnp.isfinite(targets)
    targets = jnp.where(target_mask, targets, 0.0)
    assign = _match(p, mask, targets, target_mask)
    matched = assign >= 0
    idx = jnp.maximum(assign, 0)
    d2 = jnp.where(matched, (p[idx] - targets) ** 2, 0.0)
    missing = target_mask & ~matched
    used = jnp.zeros(p.shape, bool).at[idx].max(matched)
    extra = mask & ~used
    any_t = jnp.any(target_mask)
    D = (p[None, :] - targets[:, None]) ** 2
    D = jnp.where(target_mask[:, None] & any_t, D, jnp.inf)
    nearest = jnp.where(extra & any_t, jnp.min(D, axis=0), 0.0)
    nearest = jnp.where(jnp.isfinite(nearest), nearest, 0.0)
    return assign, d2, missing, extra_weight * jnp.sum(nearest)


def bifurcation_distance(
    branch: Branch,
    targets,
    kind,
    *,
    target_mask=None,
    missing_penalty: float = 1.0,
    extra_weight: float = 1.0,
) -> Scalar:
    """Distance of the located bifurcations of one kind to target parameter values.

    Each target is matched to the nearest located point of `kind` (greedy, one-to-one:
    [`gru_bif.losses.match_targets`][]). The loss is

        Σ_matched (p_k − p*_t)²  +  missing_penalty · #(targets left unmatched)
                                 +  extra_weight · Σ_extras min_t (p_k − p*_t)²

    — zero exactly when every target has a located point on it and there are no extra
    points (or `extra_weight = 0`). Extras are pulled to their nearest target, where
    pairs of them annihilate (two folds merge at a cusp). The missing-target term is a
    constant (no gradient): add [`gru_bif.losses.bifurcation_measure`][] to create
    points where there are none ([`gru_bif.losses.bifurcation_loss`][] does).

    This is the matching term of Szep, Dalchau & Csikász-Nagy (NeurIPS 2021) with a
    hard nearest-point assignment in place of their geometric mean over all points
    (which is not differentiable at a match when more than one point is located).

    **Arguments:**

    - `branch`: a `gru_bif.Branch` (or one element of a batch, under `jax.vmap`).
    - `targets`: a scalar or `(T,)` array of target parameter values.
    - `kind`: a `gru_bif.SpecialKind` (or label): which located points count.
    - `target_mask`: optional `(T,)` bools: padding targets to ignore (for batches with
        different numbers of targets).
    - `missing_penalty`: cost of a target without a located point (squared parameter
        units).
    - `extra_weight`: weight of the located points left over after matching (0: ignore
        them).

    **Returns:** a scalar, differentiable w.r.t. the problem's arguments through the
    located points.
    """
    kind = _check_kind(kind)
    targets, target_mask = _check_targets(targets, target_mask, branch.p.dtype)
    return _distance_jit(branch, targets, target_mask, kind, missing_penalty, extra_weight)


@filter_jit
def _distance_jit(branch, targets, target_mask, kind, missing_penalty, extra_weight):
    p, mask = _located(branch, kind)
    _, d2, missing, extra_cost = _distance_parts(p, mask, targets, target_mask, extra_weight)
    return jnp.sum(d2) + missing_penalty * jnp.sum(missing) + extra_cost


# --------------------------------------------------------------------------- measure
def _fold_residual(problem: Problem, residual):
    """`R(x, p)`: the function whose Jacobian's singularity marks folds."""
    if residual is None:
        from .models.gru import gru_candidate_residual, gru_vector_field

        from .problem import field_function

        residual = (gru_candidate_residual if field_function(problem.f) is gru_vector_field
                    else problem.f)
    return lambda x, p: residual(0.0, x, problem.param.set(problem.args, p))


def _sv(A, B):
    """Singular values of two matrices from ONE SVD call: both are zero-padded to a
    common shape (which only appends zero singular values) and stacked. Returns
    `(σ(A), σ(B))`, each descending, of lengths `min(A.shape)` and `min(B.shape)`."""
    r, c = max(A.shape[0], B.shape[0]), max(A.shape[1], B.shape[1])
    pad = lambda M: jnp.zeros((r, c), M.dtype).at[: M.shape[0], : M.shape[1]].set(M)  # noqa: E731
    sv = jnp.linalg.svd(jnp.stack([pad(A), pad(B)]), compute_uv=False)
    return sv[0][: min(A.shape)], sv[1][: min(B.shape)]


def _closeness(problem: Problem, x, p, kind: SpecialKind, hopf_method: str, residual):
    """ρ ∈ [0, 1] at one branch point: 0 exactly at a bifurcation of `kind`.

    Evaluated one point at a time (`lax.map` in `_measure`, not `vmap`) and with one
    SVD call per point (`_sv`), so that at most one LAPACK kernel of the measure runs at
    a time, with a tiny batch. This avoids a deadlock of jaxlib 0.10.2 on CPU: its
    batched LAPACK kernels hand batch chunks to XLA's intra-op thread pool and block
    until they are done, so when as many of them run at once as the pool has threads
    (2 on a 2-core machine) nothing is left to run the chunks and the process hangs —
    observed with the earlier `vmap` over all branch points in the 8-D training steps
    of notebooks/02_training.ipynb (every thread idle, two of them in
    `ParallelBatchMap` under `SingularValueDecompositionKernel`)."""
    if kind == SpecialKind.FOLD:
        R = _fold_residual(problem, residual)
        Rx = jax.jacfwd(R)(x, p)
        Rp = jax.jacfwd(R, argnums=1)(x, p)
        full = jnp.concatenate([Rx, Rp[:, None]], axis=1)
        s_full, s_x = _sv(full, Rx)
        scale = jnp.maximum(s_full[0], jnp.finfo(Rx.dtype).tiny)
        return jnp.minimum(s_x[-1] / scale, 1.0)
    J = jax.jacfwd(problem.F)(x, p)
    if J.shape[0] < 2:
        return jnp.ones((), J.dtype)
    if hopf_method == "bialternate":
        s_j, s_b = _sv(J, bialternate(J))
        smax = jnp.maximum(s_j[0], jnp.finfo(J.dtype).tiny)
        return jnp.minimum(s_b[-1] / (2 * smax), 1.0)
    smax = jnp.maximum(jnp.linalg.svd(J, compute_uv=False)[0], jnp.finfo(J.dtype).tiny)
    # eigen: the smallest |Re λ| over complex pairs (real eigenvalues do not count)
    ev = jnp.linalg.eigvals(J)
    cplx = jnp.abs(ev.imag) > 1e-8 * jnp.maximum(smax, 1.0)
    re = jnp.where(cplx, jnp.abs(ev.real), smax)
    return jnp.minimum(jnp.min(re) / smax, 1.0)


def bifurcation_measure(
    problem: Problem,
    branch: Branch,
    targets,
    kind,
    *,
    target_mask=None,
    width=None,
    temperature: float = 0.05,
    hopf_method: str = "auto",
    residual=None,
) -> Float[Array, " T"]:
    """How close the branch comes to a bifurcation of `kind` near each target: a smooth
    value in `[0, 1]`, small where a bifurcation is about to appear.

    At every point `(x_i, p_i)` of the branch a *closeness* `ρ_i ∈ [0, 1]` is computed,
    vanishing exactly at a bifurcation:

    - fold: `ρ = σ_min(R_x) / σ_max([R_x, R_p])`, the smallest singular value of the
        Jacobian of a residual `R` with the equilibria's zeros — its distance to the
        nearest singular matrix — over the scale of the full Jacobian `[R_x, R_p]`. `R`
        is the vector field, except for GRU problems, where it is the candidate residual
        `ĥ − h`: same zeros and folds (`F_x = diag(1 − z) R_x` at equilibria), but no
        update gate, which the optimiser would otherwise saturate to shrink `ρ` without
        creating a fold (measured: with `F`, training a 2-D GRU towards two folds stalls
        at `μ ≈ 0.05`; with `ĥ − h` the folds appear within 20 Adam steps). In 1-D, `ρ`
        is the parameter component of the unit branch tangent, the engine's fold test.
    - Hopf, `hopf_method="bialternate"` (default for `d ≤ 12`):
        `ρ = σ_min(2J ⊙ I) / (2 σ_max(J))` with `J = F_x`: the bialternate product has the
        eigenvalues `λ_i + λ_j` (in 2-D it is `tr J`); the ratio is invariant to a
        rescaling of time. It also vanishes at neutral saddles (real `λ_i = −λ_j`), as the
        engine's bialternate test does.
    - Hopf, `hopf_method="eigen"` (default for `d > 12`): `ρ = min |Re λ| / σ_max(J)`
        over complex eigenvalues (derivatives of simple eigenvalues from a CPU
        eigen-decomposition; NaN gradients at repeated eigenvalues).

    Singular values rather than determinants keep `ρ` bounded and well scaled in any
    dimension, and their derivatives need no eigenvector derivatives. The value per
    target is a window-weighted soft minimum over the branch points,

        μ_t = −β log Σ_i ŵ_i(t) exp(−ρ_i / β),   ŵ_i(t) ∝ exp(−(p_i − p*_t)² / (2 width²)),

    with `β = temperature`: as `β → 0` the smallest closeness near the target, as
    `β → ∞` the window average. `μ_t = 1` (constant) when the branch has no valid point
    or the target is masked.

    Derivatives are taken at the branch points' *fixed* parameter values (the points
    `x_i` carry implicit derivatives at fixed `p_i`); how the continuation samples the
    branch is not differentiated. Near a fold, `dx_i/dθ` grows like `1/sqrt|p_i − p_F|`:
    the measure is meant for targets *without* a located point, and
    [`gru_bif.losses.bifurcation_loss`][] uses it only there.

    **Arguments:**

    - `problem`: the `gru_bif.Problem` the branch was computed for (equilibria).
    - `branch`: its `gru_bif.Branch`.
    - `targets`, `target_mask`: as in [`gru_bif.losses.bifurcation_distance`][].
    - `kind`: `SpecialKind.FOLD` or `SpecialKind.HOPF` (or `"fold"`, `"hopf"`).
    - `width`: window width in parameter units (default: 5 % of the branch's parameter
        span).
    - `temperature`: the soft minimum's `β` (`ρ` lies in `[0, 1]`).
    - `hopf_method`: `"auto"`, `"bialternate"` or `"eigen"`.
    - `residual`: for folds, `r(t, x, args)` with the same zeros and folds as the
        vector field (default: see above).

    **Returns:** `(T,)` values in `[0, 1]`.

    **Raises:** `ValueError` for another kind, a `problem` that is not a
    `gru_bif.Problem`, an unknown `hopf_method` or a non-positive `temperature`.
    """
    kind = _check_kind(kind)
    hopf_method = _check_measure_args(problem, kind, hopf_method, temperature, branch.x.shape[-1])
    targets, target_mask = _check_targets(targets, target_mask, branch.p.dtype)
    return _measure_jit(
        problem, branch, targets, target_mask, kind, width, temperature, hopf_method,
        residual,
    )


@filter_jit
def _measure_jit(problem, branch, targets, target_mask, kind, width, temperature,
                 hopf_method, residual):
    return _measure(problem, branch, targets, target_mask, kind, width, temperature,
                    hopf_method, residual)


def _measure(problem, branch, targets, target_mask, kind, width, temperature, hopf_method,
             residual):
    x, p = branch.x, jax.lax.stop_gradient(branch.p)
    target_mask = target_mask & jnp.isfinite(targets)
    targets = jnp.where(target_mask, targets, 0.0)
    valid = jnp.isfinite(p) & jnp.all(jnp.isfinite(x), axis=-1)
    xs = jnp.where(valid[:, None], x, 0.0)
    ps = jnp.where(valid, p, 0.0)
    # one point at a time, not vmap (see `_closeness`: concurrent batched LAPACK
    # kernels deadlock jaxlib 0.10.2 on CPU)
    rho = jax.lax.map(
        lambda a: _closeness(problem, a[0], a[1], kind, hopf_method, residual), (xs, ps)
    )
    rho = jnp.where(valid, rho, 1.0)
    any_valid = jnp.any(valid)
    if width is None:
        lo = jnp.min(jnp.where(valid, ps, jnp.inf))
        hi = jnp.max(jnp.where(valid, ps, -jnp.inf))
        width = jnp.where(any_valid & (hi > lo), 0.05 * (hi - lo), 1.0)
    width = jax.lax.stop_gradient(jnp.asarray(width, p.dtype))
    logw = -0.5 * ((ps[None, :] - targets[:, None]) / width) ** 2  # (T, N)
    logw = jnp.where(valid[None, :] | ~any_valid, logw, -jnp.inf)
    logw = logw - jax.nn.logsumexp(logw, axis=1, keepdims=True)
    mu = -temperature * jax.nn.logsumexp(logw - rho[None, :] / temperature, axis=1)
    return jnp.where(any_valid & target_mask, mu, 1.0)


# --------------------------------------------------------------------------- losses
def bifurcation_loss(
    problem: Problem,
    branch: Branch,
    targets,
    kind,
    *,
    target_mask=None,
    missing_penalty: float = 1.0,
    extra_weight: float = 1.0,
    measure_weight: float = 1.0,
    width=None,
    temperature: float = 0.05,
    hopf_method: str = "auto",
    residual=None,
) -> Scalar:
    """[`gru_bif.losses.bifurcation_distance`][] plus, for each target left without a
    located point, `measure_weight ·` [`gru_bif.losses.bifurcation_measure`][] at that
    target: a loss with a useful gradient whether or not the bifurcations exist yet.

    Zero exactly when every target has a located point on it (and there are no extras,
    unless `extra_weight=0`). While a target is missing, its term is
    `missing_penalty + measure_weight · μ_t`; since `μ_t ≤ 1`, a point appearing lowers
    the loss whenever its squared distance to the target is below `missing_penalty`.

    **Arguments:** as in the two functions; `measure_weight=0` skips the measure (and
    its Jacobians and singular values along the branch).

    **Returns:** a scalar. Gradient: `2 (p_k − p*_t) dp_k/dθ` per matched pair (the
    located points' implicit derivatives), the extras' pull likewise, plus
    `measure_weight · dμ_t/dθ` for the missing targets; piecewise smooth — it jumps
    where points appear or vanish, and is NaN if a located point it depends on is
    degenerate (see `gru_bif.differentiate`).
    """
    return _loss(
        problem, branch, targets, kind, target_mask=target_mask,
        missing_penalty=missing_penalty, extra_weight=extra_weight,
        measure_weight=measure_weight, width=width, temperature=temperature,
        hopf_method=hopf_method, residual=residual,
    )


def _loss(problem, branch, targets, kind, *, target_mask, missing_penalty, extra_weight,
          measure_weight, width, temperature, hopf_method, residual, supercritical=False,
          l1_margin=0.0, l1_weight=0.0):
    kind = _check_kind(kind)
    use_measure = not (isinstance(measure_weight, (int, float)) and measure_weight == 0)
    if use_measure:
        hopf_method = _check_measure_args(
            problem, kind, hopf_method, temperature, branch.x.shape[-1]
        )
    targets, target_mask = _check_targets(targets, target_mask, branch.p.dtype)
    return _loss_jit(
        problem, branch, targets, target_mask, kind, missing_penalty, extra_weight,
        measure_weight if use_measure else None, width, temperature, hopf_method,
        residual, supercritical, l1_margin, l1_weight,
    )


@filter_jit
def _loss_jit(problem, branch, targets, target_mask, kind, missing_penalty, extra_weight,
              measure_weight, width, temperature, hopf_method, residual, supercritical,
              l1_margin, l1_weight):
    p, mask = _located(branch, kind)
    assign, d2, missing, extra_cost = _distance_parts(
        p, mask, targets, target_mask, extra_weight
    )
    loss = jnp.sum(d2) + missing_penalty * jnp.sum(missing) + extra_cost
    if measure_weight is not None:
        mu = _measure(problem, branch, targets, target_mask, kind, width, temperature,
                      hopf_method, residual)
        loss = loss + measure_weight * jnp.sum(jnp.where(missing, mu, 0.0))
    if supercritical:
        l1 = branch.special.data["l1"]
        idx = jnp.maximum(assign, 0)
        ok = (assign >= 0) & jnp.isfinite(l1[idx])
        excess = jnp.maximum(jnp.where(ok, l1[idx], 0.0) + l1_margin, 0.0)
        loss = loss + l1_weight * jnp.sum(jnp.where(ok, excess**2, 0.0))
    return loss


def hysteresis_loss(problem: Problem, branch: Branch, p1, p2, **kwargs) -> Scalar:
    """Two folds at `p1` and `p2` — the ends of a bistable (hysteresis) range when the
    branch is S-shaped with stable outer parts. Equals
    `bifurcation_loss(problem, branch, [p1, p2], SpecialKind.FOLD, **kwargs)`: a scalar,
    zero exactly when the branch has folds at both targets and no other fold; gradient
    as described there (through the located folds' implicit derivatives, which stay
    regular at the folds — unlike those of the branch points near them)."""
    targets = jnp.stack([jnp.asarray(p1, branch.p.dtype), jnp.asarray(p2, branch.p.dtype)])
    return bifurcation_loss(problem, branch, targets, SpecialKind.FOLD, **kwargs)


def hopf_loss(
    problem: Problem,
    branch: Branch,
    target,
    *,
    supercritical: bool = False,
    l1_margin: float = 0.0,
    l1_weight: float = 1.0,
    target_mask=None,
    missing_penalty: float = 1.0,
    extra_weight: float = 0.0,
    measure_weight: float = 1.0,
    width=None,
    temperature: float = 0.05,
    hopf_method: str = "auto",
) -> Scalar:
    """A Hopf point at `target` (a scalar, or several values), optionally supercritical.

    `bifurcation_loss(problem, branch, target, SpecialKind.HOPF, ...)`, with extra Hopf
    points ignored by default (`extra_weight=0`: an oscillatory range has two ends, and
    only one is targeted). With `supercritical=True`, each matched Hopf point adds
    `l1_weight · max(l1 + l1_margin, 0)²`: zero once the first Lyapunov coefficient is
    at most `−l1_margin` (supercritical: a stable cycle is born). Only the sign of `l1`
    is normalisation-free, so keep `l1_margin` small.

    Near the Hopf point the period of the cycle born there is `2π/ω`
    (`branch.special.data["omega"]`, differentiable); for the period of the cycle at a
    given input beyond it, add [`gru_bif.losses.cycle_period_loss`][].

    Other keywords as in [`gru_bif.losses.bifurcation_loss`][].

    **Returns:** a scalar. Gradient through the matched Hopf points' `p` and `l1`
    (implicit derivatives of the Hopf defining system; `l1` involves third derivatives
    of the vector field, so this compiles noticeably slower than a fold loss); NaN at a
    Hopf point whose defining system is singular (`ω → 0`, a Bogdanov–Takens point).
    """
    return _loss(
        problem, branch, target, SpecialKind.HOPF, target_mask=target_mask,
        missing_penalty=missing_penalty, extra_weight=extra_weight,
        measure_weight=measure_weight, width=width, temperature=temperature,
        hopf_method=hopf_method, residual=None, supercritical=bool(supercritical),
        l1_margin=l1_margin, l1_weight=l1_weight,
    )


# --------------------------------------------------------------------------- cycles
def cycle_period_loss(cycle_problem, u, target, *, tol=None, max_iter: int = 25):
    """Squared distance of a cycle's period to a target, at the cycle's fixed input.

    `u = (nodes, T, p)` is a cycle of `cycle_problem` (a
    `gru_bif.periodic.CollocationProblem`), exact or approximate — e.g. from
    `gru_bif.periodic.cycle_from_hopf` and a continuation to the input `p = u[-1]`, or
    the cycle returned by the previous call (carry it as the training state, see
    [`gru_bif.training.fit`][]). It is first corrected by Newton's method at fixed `p`
    for the *current* arguments of `cycle_problem` (never differentiated), then
    differentiated by the implicit function theorem on the collocation equations
    (`gru_bif.periodic.cycle_period`: one linear solve of the collocation Jacobian per
    derivative).

    **Arguments:**

    - `cycle_problem`: the `CollocationProblem`; its `problem.args` carry the
        derivatives (build it from the same arguments as the rest of the loss, e.g.
        `eqx.tree_at(lambda c: c.problem, cycle_problem, problem)`).
    - `u`: `(cycle_problem.size,)`: the cycle guess; `u[-1]` is the input at which the
        period is measured.
    - `target`: the target period (a scalar).
    - `tol`, `max_iter`: Newton tolerance and iterations (as in
        `gru_bif.periodic.correct_cycle`).

    **Returns:** `(loss, u_new)`: the scalar `(T − target)²` and the corrected cycle
    (no derivatives; the next call's guess). Where Newton does not converge (the cycle
    vanished, e.g. through a homoclinic or Hopf bifurcation as the weights changed) the
    loss is NaN — [`gru_bif.training.fit`][] then stops and keeps the best iterate — and
    `u_new` is the guess `u`. Gradient: `2 (T − target) dT/dθ`; it grows without bound
    as the cycle approaches a fold of cycles or a homoclinic orbit (the period diverges
    there) and is NaN at a singular collocation system.

    **Raises:** `ValueError` if `u` has the wrong shape or `target` is not a scalar.
    """
    from .periodic import correct_cycle, cycle_period

    u = jnp.asarray(u)
    if u.shape != (cycle_problem.size,):
        raise ValueError(
            f"u has shape {u.shape}; this cycle problem's unknowns have shape "
            f"({cycle_problem.size},) (nodes, T, p)."
        )
    target = jnp.asarray(target, u.dtype)
    if target.ndim != 0:
        raise ValueError(f"`target` must be a scalar period; got shape {target.shape}.")
    frozen = stop_gradient_tree(cycle_problem)
    u_new, _, ok = correct_cycle(frozen, jax.lax.stop_gradient(u), tol=tol, max_iter=max_iter)
    u_safe = jnp.where(ok, u_new, jax.lax.stop_gradient(u))
    T = cycle_period(cycle_problem, u_safe)
    loss = jnp.where(ok, (T - target) ** 2, jnp.nan)
    return loss, jax.lax.stop_gradient(u_safe)
