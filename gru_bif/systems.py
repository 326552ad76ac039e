"""User systems from files, and saved GRU models, as `Problem`s.

A system file is a Python file defining

```python
import jax.numpy as jnp
PARAMS = {"a": 1.0, "b": 0.5}      # named scalar parameters
X0 = [1.0, 0.5]                    # a state near the branch at the start
def vector_field(t, x, p):         # p: dict of scalars
    return jnp.array([...])
```
"""

import hashlib
import importlib.util
import pathlib
import sys
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .problem import Problem


class SystemFile(eqx.Module):
    """A loaded system file: `vector_field`, `params` (dict of floats), `x0` (or None),
    `name` and `path`."""

    vector_field: Any = eqx.field(static=True)
    params: dict
    x0: Any
    name: str = eqx.field(static=True)
    path: str = eqx.field(static=True)

    def problem(self, param: str, overrides: dict | None = None) -> Problem:
        params = dict(self.params)
        for k, v in (overrides or {}).items():
            if k not in params:
                raise ValueError(
                    f"--set {k}=...: {k!r} is not in the system's PARAMS "
                    f"{sorted(params)}."
                )
            params[k] = float(v)
        if param not in params:
            raise ValueError(
                f"Unknown parameter {param!r} for system {self.name}; PARAMS has "
                f"{sorted(params)}."
            )
        return Problem(self.vector_field, params, param)


_LOADED: dict[str, SystemFile] = {}


def load_system(path: "str | pathlib.Path") -> SystemFile:
    """Import a system file (cached per path and content, so the same `vector_field`
    object is reused and nothing recompiles, while an edited file is read again).
    Raises `ValueError` naming the file and what is missing or wrong."""
    path = pathlib.Path(path).resolve()
    if not path.exists():
        raise ValueError(f"System file {str(path)!r} does not exist.")
    if path.suffix != ".py":
        raise ValueError(
            f"System file {path.name!r} must be a Python file (.py) defining PARAMS, "
            "X0 and vector_field(t, x, p)."
        )
    try:
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError as e:
        raise ValueError(f"System file {path.name!r} cannot be read: {e}.") from e
    key = f"{path}:{digest}"
    if key in _LOADED:
        return _LOADED[key]
    modname = f"gru_bif_system_{digest}"
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise ValueError(f"Could not import system file {path.name!r}: {e}") from e
    f = getattr(module, "vector_field", None)
    if f is None or not callable(f):
        raise ValueError(
            f"System file {path.name!r} has no function `vector_field(t, x, p)`; define "
            "one returning dx/dt as a jnp.array (p is the dict PARAMS)."
        )
    params = getattr(module, "PARAMS", None)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValueError(
            f"System file {path.name!r}: PARAMS must be a dict of named numbers, e.g. "
            f"PARAMS = {{'a': 1.0}}; got a {type(params).__name__}."
        )
    for k, v in params.items():
        if not isinstance(k, str):
            raise ValueError(
                f"System file {path.name!r}: PARAMS key {k!r} is not a name; use names "
                "such as 'a' or 'mu'."
            )
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise ValueError(
                f"System file {path.name!r}: PARAMS[{k!r}] is {v!r}; expected a finite "
                "number."
            )
    x0 = getattr(module, "X0", None)
    if x0 is not None:
        try:
            x0 = np.asarray(x0, dtype=float)
        except (ValueError, TypeError) as e:
            raise ValueError(
                f"System file {path.name!r}: X0 is {x0!r}; expected a flat list of "
                f"numbers ({e})."
            ) from None
        if x0.ndim != 1 or x0.size == 0:
            raise ValueError(
                f"System file {path.name!r}: X0 must be a flat, non-empty list of "
                f"numbers; got shape {x0.shape}."
            )
        if not np.all(np.isfinite(x0)):
            raise ValueError(f"System file {path.name!r}: X0 contains NaN or inf: {x0}.")
        x0 = jnp.asarray(x0, dtype=jnp.result_type(float))
    sf = SystemFile(
        vector_field=f,
        params={k: float(v) for k, v in params.items()},
        x0=x0,
        name=path.stem,
        path=str(path),
    )
    _LOADED[key] = sf
    return sf
