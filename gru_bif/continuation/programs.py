"""The engine's concrete path: a call with concrete inputs runs as small compiled
programs (cached in memory and, when a cache directory is set, on disk: see
`gru_bif._programs`) instead of one traced program — the loop, the location of flagged
points in chunks, and the data of each kind of point found. `gru_bif.continuation`
picks this path when nothing is traced, and `_continuation_jit` (one program) under a
user's `jit`/`vmap`/`grad`."""

import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._results import RESULTS
from ..branch import Branch, SpecialKind, SpecialPoints
from .engine import (
    _brackets, _check_shapes, _continuation_jit, _jac, _kinds, _locate_bracket, _mask_rows,
    _run_direction, _run_loop, _select, _StaticSettings, join_directions, PseudoArclength,
)


# --------------------------------------------------------------------------- programs
# A call with concrete inputs runs as small programs instead of one: the loop (keyed by
# the system, `max_steps` and the options), the location of flagged points in chunks of
# `LOCATE_CHUNK` brackets, and the data of each kind of point found (compiled only for
# the kinds present). The location and data programs do not depend on `max_steps` or
# the range, so every branch of a system shares them; the location program compiles in
# a background thread while the loop compiles (see `gru_bif._programs`).
LOCATE_CHUNK = 4
#: systems with at most this many unknowns (or an orbit problem's ODE of at most this
#: dimension: `system_size`) count as small (`gru_bif._compile`, mode "auto": compiled
#: with the quickest pipeline, and recompiled at optimisation level 1 in the background
#: once repeated calls have earned it: `gru_bif._programs.settle`; their run time is mostly
#: dispatch)
SMALL_SYSTEM = 16
_STAT_KEYS = ("steps", "attempts", "rejected", "newton_iterations")


def _loop_outputs(cp, X, T, S, NU, DS, IT, n, result, stats):
    Xm = _mask_rows(X, n, jnp.nan)
    NU = _mask_rows(NU, n, -1)
    return (
        Xm,
        Xm[:, -1],
        jax.vmap(cp.state)(Xm),
        T,
        S,
        NU,
        NU == 0,
        _mask_rows(DS, n, jnp.nan),
        _mask_rows(IT, n, -1),
        n.astype(jnp.int32),
        result._value,
        *(stats[k] for k in _STAT_KEYS),
    )


def _loop_program(cp, u0, settings, static, directions, tangent0):
    _check_shapes(cp, u0)
    return _loop_outputs(cp, *_run_loop(cp, u0, settings, static, directions, tangent0))


_RUN_FIELDS = ("X", "T", "S", "NU", "DS", "IT", "k", "attempts", "rejected", "newton_total")


def _direction_program(cp, u0, settings, static, direction, tangent0):
    """One direction's run, the direction an input: `direction="both"` runs this one
    program twice (the traced path vmaps the two, which traces and compiles the step
    three times over under the batching rule)."""
    _check_shapes(cp, u0)
    st = _run_direction(cp, u0, direction, settings, static, tangent0)
    out = {f: getattr(st, f) for f in _RUN_FIELDS}
    out["result"] = st.result._value
    return out


def _joined_program(cp, fwd, bwd):
    def run(d):
        fields = {f: d[f] for f in _RUN_FIELDS}
        return types.SimpleNamespace(result=_result_item(d["result"]), **fields)

    return _loop_outputs(cp, *join_directions(run(fwd), run(bwd)))


def _locate_static(static: _StaticSettings) -> _StaticSettings:
    """The static settings location depends on (not `max_steps`, capacities, ...)."""
    return _StaticSettings(
        max_steps=0,
        max_newton=static.max_newton,
        target_newton=0,
        max_special_points=0,
        max_locate_iterations=static.max_locate_iterations,
        algorithm=PseudoArclength(),
    )


def _locate_program(cp, u_a, t_a, u_b, f_a, f_b, col, valid, x_first, settings, static):
    # lax.map, not vmap: a batched search compiles ~1.5x slower and runs in lockstep
    def one(a):
        return _locate_bracket(cp, *a, x_first, settings, static)

    return tuple(jax.lax.map(one, (u_a, t_a, u_b, f_a, f_b, col, valid)))


def _data_program(cp, kind, u, t, valid):
    keys = tuple(cp.data_keys)

    def one(u, t):
        J, _ = _jac(cp, u)
        ok, u_att, data = cp.special_data(kind, u, J, t)
        if set(data) != set(keys):
            raise TypeError(
                f"{type(cp).__name__}.special_data returns data {sorted(data)}, but its "
                f"data_keys are {sorted(keys)}; they must agree."
            )
        return ok, u_att, cp.param(u_att), cp.state(u_att), tuple(data[k] for k in keys)

    def skip(u, t):  # a padding slot: no work
        shapes = jax.eval_shape(one, u, t)
        return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

    ok, u_att, p, x, data = jax.lax.map(
        lambda a: jax.lax.cond(a[2], one, skip, a[0], a[1]), (u, t, valid)
    )
    return (ok, p, x, *data)


def _chunks(count: int):
    """Index chunks of `LOCATE_CHUNK` (the last one padded by repeating its first)."""
    for start in range(0, count, LOCATE_CHUNK):
        idx = np.arange(start, min(start + LOCATE_CHUNK, count))
        pad = np.full(LOCATE_CHUNK - len(idx), idx[0])
        yield np.concatenate([idx, pad]), len(idx)


def _placeholders(cp, u0, settings, sloc):
    """Shapes of the location program's inputs (for compiling it ahead); `sloc` from
    `_locate_static`."""
    n1 = u0.shape[0]
    B = LOCATE_CHUNK
    f = jax.ShapeDtypeStruct
    dt = u0.dtype
    return (cp, f((B, n1), dt), f((B, n1), dt), f((B, n1), dt), f((B,), dt), f((B,), dt),
            f((B,), np.int32), f((B,), np.bool_), f((n1,), dt), settings, sloc)


def _to_device(*arrays):
    return arrays


def _result_item(value) -> RESULTS:
    return eqx.tree_at(lambda r: r._value, RESULTS.successful, value)


@filter_jit
def _attach_program(cp, Xm, kinds: tuple, u, t):
    """The rows `Xm` and the located points (`u`, tangents `t`, of the static `kinds`)
    of a concrete run, with implicit derivatives with respect to the (differentiable)
    `cp`: the rows at fixed parameter, each point by `special_data` of its own kind only.
    Returns `(p_rows, x_rows, ok, p, x, data)`. The data are rematerialised: the forward
    pass keeps no linearisation of them (third derivatives for a Hopf point's `l1`), and
    a reverse pass computes only what its cotangents need."""
    dyn, static = eqx.partition(cp, eqx.is_array)
    rows = jax.checkpoint(
        lambda dyn, Xm: eqx.combine(dyn, static).attach_points(Xm),
        policy=jax.checkpoint_policies.nothing_saveable,
    )
    X = rows(dyn, Xm)
    p_rows, x_rows = X[:, -1], jax.vmap(cp.state)(X)
    kinds_arr = np.asarray(kinds, np.int32)
    count = len(kinds)
    ok = jnp.zeros(count, bool)
    p = jnp.zeros(count, u.dtype)
    x = jnp.zeros((count,) + x_rows.shape[1:], x_rows.dtype)
    data = None
    for k in np.unique(kinds_arr):
        idx = np.nonzero(kinds_arr == k)[0]
        prog = jax.checkpoint(
            lambda dyn, uu, tt, kk=int(k): _data_program(
                eqx.combine(dyn, static), kk, uu, tt, jnp.ones(uu.shape[0], bool)
            ),
            policy=jax.checkpoint_policies.nothing_saveable,
        )
        ok_k, p_k, x_k, *data_k = prog(dyn, u[idx], t[idx])
        if data is None:
            data = [jnp.zeros((count,) + v.shape[1:], v.dtype) for v in data_k]
        ok, p, x = ok.at[idx].set(ok_k), p.at[idx].set(p_k), x.at[idx].set(x_k)
        data = [a.at[idx].set(v) for a, v in zip(data, data_k)]
    return p_rows, x_rows, ok, p, x, tuple(data or ())


@filter_jit
def _take_program(p, x, data, take, base_p, base_x, base_data):
    """The kept points' differentiable values (indices `take`, -1: padding) in the
    run's special arrays."""
    mask = take >= 0
    idx = jnp.maximum(take, 0)

    def one(a, base):
        m = mask.reshape(mask.shape + (1,) * (a.ndim - 1))
        return jnp.where(m, a[idx], base) if a.shape[0] else base

    return (one(p, base_p), one(x, base_x),
            {k: one(a, base_data[k]) for k, a in data.items()})


_BRANCH_FIELDS = ("x", "p", "stable", "n_unstable", "ds", "newton_iterations", "num_points")
_SPECIAL_FIELDS = ("kind", "p", "x", "index", "precision", "located", "tangent", "data",
                   "count")


def _whole_program(cp, u0, settings, static, directions, tangent0):
    """The warm program (`gru_bif._programs.warm`): the whole continuation as one
    program (`_continuation_jit`), its `Branch` as a dict of arrays."""
    b = _continuation_jit(cp, u0, settings, static, directions, tangent0)
    out = {f: getattr(b, f) for f in _BRANCH_FIELDS}
    out["special"] = {f: getattr(b.special, f) for f in _SPECIAL_FIELDS}
    out["result"] = b.result._value
    out["stats"] = dict(b.stats)
    return out


def _branch_of(out: dict, cp) -> Branch:
    special = SpecialPoints(**out.pop("special"))
    result = _result_item(out.pop("result"))
    return Branch(**out, special=special, result=result, param_name=cp.param_name)


def _small(cp, u0) -> bool:
    """Whether `cp`'s programs count as a small system's (`SMALL_SYSTEM`)."""
    return cp.system_size(u0.shape[0]) <= SMALL_SYSTEM


def prefetch_programs(cp, u0, settings, static, directions: tuple, tangent0=None) -> bool:
    """Compile the programs a `continuation_programs` call with these shapes will run
    (its loop, then its location program) in the background, for a driver that has
    other work to do first (`continue_cycles` computes its first tangent meanwhile);
    only when a core is spare (`gru_bif._programs.spare_core`). Returns whether the
    loop was not compiled yet (a first call with these shapes)."""
    from .. import _programs

    if len(directions) != 1 or not _programs.spare_core():
        return False
    small = _small(cp, u0)
    new = _programs.prefetch(_loop_program, cp, u0, settings, static, directions,
                             tangent0, small=small)
    _programs.prefetch(_locate_program,
                       *_placeholders(cp, u0, settings, _locate_static(static)),
                       small=small)
    return new


def continuation_programs(cp, u0, settings, static, directions: tuple, tangent0=None,
                          cp_diff=None, warm: bool = True):
    """`_continuation_jit` for concrete inputs, run as separate programs (see above);
    the same branch, rows and special points. With `cp_diff` (the same problem carrying
    autodiff tracers, e.g. under an eager `jax.grad`: `cp` is its `stop_gradient`), the
    run is not differentiated; implicit derivatives are attached afterwards by one small
    program (`_attach_program`): the rows, and the special points by the defining
    systems of the kinds found only.

    With `warm` (and no `cp_diff`), a call whose system, shapes and options were seen
    before runs as one *warm* program once it is ready (`_whole_program`, compiled in
    the background with XLA's full pipeline: `gru_bif._programs.warm`); same results
    to rounding. Drivers that call this many times within one call of their own
    (`continue_cycles`) pass `warm=False`."""
    import time

    from .. import _programs

    t_start = time.perf_counter()
    if warm and cp_diff is None:
        # repeated calls of a system run as one program, compiled meanwhile in the
        # background with XLA's full pipeline (one dispatch instead of four to six)
        out = _programs.warm(_whole_program, cp, u0, settings, static, directions,
                             tangent0)
        if out is not None:
            return _branch_of(out, cp)
    sloc = _locate_static(static)
    # a small system's programs compile with the quickest pipeline (`gru_bif._compile`)
    small = _small(cp, u0)
    if _programs.spare_core():
        # the location program compiles on the other core while the loop compiles
        _programs.prefetch(_locate_program, *_placeholders(cp, u0, settings, sloc),
                           small=small)
    if len(directions) == 2:
        # one program for a direction, run twice, and a small one joins the two runs
        fwd, bwd = (
            _programs.compiled(_direction_program, cp, u0, settings, static,
                               np.asarray(d, u0.dtype), tangent0, small=small)
            for d in directions
        )
        out = _programs.compiled(_joined_program, cp, fwd, bwd, small=small)
    else:
        out = _programs.compiled(_loop_program, cp, u0, settings, static, directions,
                                 tangent0, small=small)
    Xm, p_rows, x, T, S, NU, stable, DS, IT, n, result, *stat_values = out
    stats = dict(zip(_STAT_KEYS, stat_values))
    K = static.max_special_points
    S_h = np.asarray(S)
    n_h = int(n)
    row, col, valid, total = _brackets(np, S_h, n_h, K)
    count = int(np.sum(valid))
    dtype = u0.dtype
    n1 = u0.shape[0]
    d = x.shape[1:]
    keys = tuple(cp.data_keys)
    kinds_of = np.asarray([int(k) for k in _kinds(cp)], np.int32)
    special = dict(
        kind=np.full(K, int(SpecialKind.NONE), np.int32),
        p=np.full(K, np.nan, dtype),
        x=np.full((K,) + d, np.nan, dtype),
        index=np.full(K, -1, np.int32),
        precision=np.full(K, np.nan, dtype),
        located=np.zeros(K, bool),
        tangent=np.full((K, n1), np.nan, dtype),
    )
    data = {k: np.full(K, np.nan, dtype) for k in keys}
    attached = None
    if cp_diff is not None and not count:
        attached = _attach_program(
            cp_diff, Xm, (), np.zeros((0, n1), dtype), np.zeros((0, n1), dtype)
        )
        take = np.full(K, -1, np.int32)
    if count:
        X_h, T_h = np.asarray(Xm), np.asarray(T)
        row, col = row[:count], col[:count]
        u = np.empty((count, n1), dtype)
        t = np.empty((count, n1), dtype)
        precision = np.empty(count, dtype)
        located = np.empty(count, bool)
        for idx, m in _chunks(count):
            r, c = row[idx], col[idx]
            res = _programs.compiled(
                _locate_program, cp, X_h[r], T_h[r], X_h[r + 1], S_h[r, c], S_h[r + 1, c],
                c.astype(np.int32), np.arange(LOCATE_CHUNK) < m, X_h[0], settings, sloc,
                small=small,
            )
            for target, arr in zip((u, t, precision, located), res):
                target[idx[:m]] = np.asarray(arr)[:m]
        kind = kinds_of[col]
        ok = np.zeros(count, bool)
        p = np.full(count, np.nan, dtype)
        xs = np.full((count,) + d, np.nan, dtype)
        dvals = {k: np.full(count, np.nan, dtype) for k in keys}
        if cp_diff is not None:
            # one program: the data of every located point, differentiable
            attached = _attach_program(cp_diff, Xm, tuple(int(k) for k in kind), u, t)
            ok = np.asarray(jax.lax.stop_gradient(attached[2]))
            p = xs = None
        for k in np.unique(kind) if cp_diff is None else ():
            where = np.nonzero(kind == k)[0]
            for idx, m in _chunks(len(where)):
                sel = where[idx]
                res = _programs.compiled(
                    _data_program, cp, int(k), u[sel], t[sel], np.arange(LOCATE_CHUNK) < m,
                    small=small,
                )
                ok_k, p_k, x_k, *data_k = (np.asarray(a)[:m] for a in res)
                dst = sel[:m]
                ok[dst], p[dst], xs[dst] = ok_k, p_k, x_k
                for key, v in zip(keys, data_k):
                    dvals[key][dst] = v
        keep, order = _select(np, cp, X_h[0], u, kind, np.ones(count, bool), ok)
        m = int(np.sum(keep))
        sel = order[:m]
        special["kind"][:m] = kind[sel]
        if cp_diff is None:
            special["p"][:m] = p[sel]
            special["x"][:m] = xs[sel]
            for key in keys:
                data[key][:m] = dvals[key][sel]
        else:
            take = np.full(K, -1, np.int32)
            take[:m] = sel
        special["index"][:m] = row[sel]
        special["precision"][:m] = precision[sel]
        special["located"][:m] = located[sel]
        special["tangent"][:m] = t[sel]
        count = m
    # one program call moves every array to the device (one `jnp.asarray` each would
    # cost ~40 µs apiece)
    special, data, dropped, count = _programs.compiled(
        _to_device, special, data, np.asarray(max(int(total) - K, 0), np.int32),
        np.asarray(count, np.int32), small=small)
    stats["special_dropped"] = dropped
    if cp_diff is not None:
        p_rows, x, _, p_d, x_d, data_d = attached
        special["p"], special["x"], data = _take_program(
            p_d, x_d, dict(zip(keys, data_d)) if data_d else
            {k: jnp.zeros((0,), dtype) for k in keys}, take, special["p"], special["x"],
            data,
        )
    points = SpecialPoints(**special, data=data, count=count)
    if warm:
        # repeated calls that have earned it: better code compiled in the background
        _programs.settle(time.perf_counter() - t_start)
    return Branch(
        x=x,
        p=p_rows,
        stable=stable,
        n_unstable=NU,
        ds=DS,
        newton_iterations=IT,
        num_points=n,
        special=points,
        result=_result_item(result),
        stats=stats,
        param_name=cp.param_name,
    )
