"""Checks of GRU weights shared by the model and its converters: finite, real, of the
right shape; messages name the source, the weight and the fix."""

from typing import Any

import jax
import numpy as np


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _check_finite(name: str, x) -> None:
    if _is_traced(x):  # values unknown while tracing (vmap/jit): nothing to check
        return
    arr = np.asarray(x)
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"GRU weight {name!r} contains {bad} NaN or inf entries; pass finite weights "
            "(check the trained model or the file it was loaded from)."
        )


def _nonzero(x) -> bool:
    if _is_traced(x):
        return False
    return bool(np.any(np.asarray(x) != 0))


def _source_array(source: str, name: str, x) -> Any:
    """Convert one weight of a foreign model to an array (NumPy, or a JAX tracer when
    traced), checking that it is real and finite. `source` and `name` appear in errors."""
    if _is_traced(x):
        return x
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch.Tensor, without importing torch
        x = x.detach().cpu()
        try:
            x = x.numpy()
        except TypeError:  # bfloat16 / float16 tensors have no NumPy dtype
            x = x.double().numpy()
    try:
        arr = np.asarray(x)
    except Exception as e:  # noqa: BLE001
        raise ValueError(
            f"{source}: {name!r} could not be converted to an array ({e}); pass a NumPy, "
            "JAX or torch array."
        ) from e
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"{source}: {name!r} has dtype {arr.dtype}; GRU weights must be real numbers."
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{source}: {name!r} contains {bad} NaN or inf entries; pass finite weights "
            "(check the trained model or the file it was loaded from)."
        )
    return arr


def _check_shape(source: str, name: str, x, shape: tuple, hint: str = "") -> None:
    if tuple(np.shape(x)) != tuple(shape):
        raise ValueError(
            f"{source}: {name!r} has shape {tuple(np.shape(x))}; expected {tuple(shape)}."
            + (f" {hint}" if hint else "")
        )


def _check_size(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}.")
    return int(value)


def _check_scale(name: str, value) -> None:
    if _is_traced(value):
        return
    arr = np.asarray(value)
    if arr.shape != () or arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real scalar; got {value!r}.")
    if not np.isfinite(arr) or arr < 0:
        raise ValueError(f"{name} must be finite and non-negative; got {value!r}.")


def _weight_array(source: str, name: str, value, dtype, shape) -> np.ndarray:
    """`value` (nested lists, or an array) as an array of `dtype`; a `ValueError` that
    names the first entry that is not a number, or says the nesting is ragged."""
    try:
        return np.asarray(value, dtype=dtype)
    except (ValueError, TypeError) as e:
        where = _first_non_number(value)
        if where is not None:
            index, bad = where
            entry = "".join(f"[{i}]" for i in index)
            raise ValueError(
                f"{source}: weight {name!r}{entry} is {bad!r}; expected a number (the "
                f"weight is a nested list of numbers of shape {shape})."
            ) from None
        raise ValueError(
            f"{source}: weight {name!r} is not a nested list of numbers of shape {shape} "
            f"({e})."
        ) from None


def _first_non_number(value, index=()):
    """`(index, entry)` of the first leaf of nested lists that is not a real number."""
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _first_non_number(v, index + (i,))
            if found is not None:
                return found
        return None
    if isinstance(value, np.ndarray):
        return None if value.dtype.kind in "biuf" else (index, value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return index, value
    return None
