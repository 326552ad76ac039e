"""The engine's concrete path: a call with concrete inputs runs as small compiled
programs (cached in memory and, when a cache directory is set, on disk: see
`gru_bif._programs`) instead of one traced program — the loop, the location of flagged
points in chunks, and the data of each kind of point found. `gru_bif.continuation`
picks this path when nothing is traced, and `_continuation_jit` (one program) under a
user's `jit`/`vmap`/`grad`."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._results import RESULTS
from ..branch import Branch, SpecialKind, SpecialPoints
from .engine import (
    _brackets, _check_shapes, _jac, _kinds, _locate_bracket, _mask_rows, _run_loop,
    _select, _StaticSettings, PseudoArclength,
)


# --------------------------------------------------------------------------- programs
# A call with concrete inputs runs as small programs instead of one: the loop (keyed by
# the system, `max_steps` and the options), the location of flagged points in chunks of
# `LOCATE_CHUNK` brackets, and the data of each kind of point found (compiled only for
# the kinds present). The location and data programs do not depend on `max_steps` or
# the range, so every branch of a system shares them; the location program compiles in
# a background thread while the loop compiles (see `gru_bif._programs`).
LOCATE_CHUNK = 4
_STAT_KEYS = ("steps", "attempts", "rejected", "newton_iterations")


def _loop_program(cp, u0, settings, static, directions, tangent0):
    _check_shapes(cp, u0)
    X, T, S, NU, DS, IT, n, result, stats = _run_loop(
        cp, u0, settings, static, directions, tangent0
    )
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


def continuation_programs(cp, u0, settings, static, directions: tuple, tangent0=None):
    """`_continuation_jit` for concrete inputs, run as separate programs (see above);
    the same branch, rows and special points."""
    from .. import _programs

    sloc = _locate_static(static)
    if _programs.spare_core():
        # the location program compiles on the other core while the loop compiles
        _programs.prefetch(_locate_program, *_placeholders(cp, u0, settings, sloc))
    out = _programs.compiled(_loop_program, cp, u0, settings, static, directions, tangent0)
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
            )
            for target, arr in zip((u, t, precision, located), res):
                target[idx[:m]] = np.asarray(arr)[:m]
        kind = kinds_of[col]
        ok = np.zeros(count, bool)
        p = np.full(count, np.nan, dtype)
        xs = np.full((count,) + d, np.nan, dtype)
        dvals = {k: np.full(count, np.nan, dtype) for k in keys}
        for k in np.unique(kind):
            where = np.nonzero(kind == k)[0]
            for idx, m in _chunks(len(where)):
                sel = where[idx]
                res = _programs.compiled(
                    _data_program, cp, int(k), u[sel], t[sel], np.arange(LOCATE_CHUNK) < m
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
        special["p"][:m] = p[sel]
        special["x"][:m] = xs[sel]
        special["index"][:m] = row[sel]
        special["precision"][:m] = precision[sel]
        special["located"][:m] = located[sel]
        special["tangent"][:m] = t[sel]
        for key in keys:
            data[key][:m] = dvals[key][sel]
        count = m
    # one program call moves every array to the device (one `jnp.asarray` each would
    # cost ~40 µs apiece)
    special, data, dropped, count = _programs.compiled(
        _to_device, special, data, np.asarray(max(int(total) - K, 0), np.int32),
        np.asarray(count, np.int32),
    )
    stats["special_dropped"] = dropped
    points = SpecialPoints(**special, data=data, count=count)
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
