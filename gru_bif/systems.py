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

import importlib.util
import pathlib
import sys
from typing import Any

import equinox as eqx
import jax.numpy as jnp

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
    """Import a system file (cached per path, so the same `vector_field` object is
    reused and nothing recompiles). Raises `ValueError` naming what is missing."""
    path = pathlib.Path(path).resolve()
    key = str(path)
    if key in _LOADED:
        return _LOADED[key]
    if not path.exists():
        raise ValueError(f"System file {str(path)!r} does not exist.")
    if path.suffix != ".py":
        raise ValueError(
            f"System file {path.name!r} must be a Python file (.py) defining PARAMS, "
            "X0 and vector_field(t, x, p)."
        )
    modname = f"gru_bif_system_{abs(hash(key))}"
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
    if not isinstance(params, dict) or not all(
        isinstance(v, (int, float)) for v in params.values()
    ):
        raise ValueError(
            f"System file {path.name!r}: PARAMS must be a dict of named numbers, e.g. "
            "PARAMS = {'a': 1.0}."
        )
    x0 = getattr(module, "X0", None)
    if x0 is not None:
        x0 = jnp.asarray(x0, dtype=jnp.result_type(float))
        if x0.ndim != 1:
            raise ValueError(f"System file {path.name!r}: X0 must be a flat list of numbers.")
    sf = SystemFile(
        vector_field=f,
        params={k: float(v) for k, v in params.items()},
        x0=x0,
        name=path.stem,
        path=key,
    )
    _LOADED[key] = sf
    return sf
