"""Shape-annotated type aliases used across the package (jaxtyping)."""

from typing import Any, TypeAlias

from jaxtyping import Array, ArrayLike, Bool, Float, Int, PyTree

Scalar: TypeAlias = Float[Array, ""]
ScalarLike: TypeAlias = float | Float[ArrayLike, ""]
State: TypeAlias = Float[Array, " d"]
Args: TypeAlias = PyTree[Any]

__all__ = [
    "Array",
    "ArrayLike",
    "Args",
    "Bool",
    "Float",
    "Int",
    "PyTree",
    "Scalar",
    "ScalarLike",
    "State",
]
