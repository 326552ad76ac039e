"""Analytic normal forms: small systems whose bifurcations are known in closed form.

Each normal form is a final `eqx.Module` (subclass of `AbstractNormalForm`) holding

- `name`: a short identifier (`"saddle_node"`, `"hopf"`, ...);
- `vector_field`: a module-level function `f(t, x, args)` (Diffrax's signature; `args` a dict
    of named float parameters). It is the same function object for every instance, so
    `jit` does not retrace when you switch instances or parameter values;
- `params`: the default parameter dict, and `param`: the name of the primary
    continuation parameter;
- `x0`: an equilibrium at `params` (a good start for continuation in `param`);
- `dim`: the state dimension;

plus the analytic truth: `equilibria(params)` (fixed shape, NaN-padded, traceable),
`special_points(params)` (the bifurcations met when `param` varies with the others fixed,
as `AnalyticPoint`s), and form-specific curves, cycles and coefficients.

**Conventions for normal-form coefficients** (those of Kuznetsov, *Elements of Applied
Bifurcation Theory*, 3rd ed., and of MATCONT): eigenvectors are normalised by
`⟨q, q⟩ = 1` and `⟨p, q⟩ = 1` (`⟨u, v⟩ = ū·v`), `B`, `C` are the second and third
derivatives of the vector field, and

- fold: `a = ½ ⟨p, B(q, q)⟩`;
- Hopf (eigenvalues `±iω`): `l1 = (1/2ω) Re[⟨p, C(q,q,q̄)⟩ − 2⟨p, B(q, A⁻¹B(q,q̄))⟩
    + ⟨p, B(q̄, (2iωI − A)⁻¹B(q,q))⟩]`;
- Bogdanov–Takens (`A q0 = 0`, `A q1 = q0`, `Aᵀ p1 = 0`, `Aᵀ p0 = p1`, `p0·q0 = p1·q1 = 1`,
    `p0·q1 = p1·q0 = 0`): `a = ½ p1·B(q0,q0)`, `b = p0·B(q0,q0) + p1·B(q0,q1)`.

`l1` depends on the normalisation of `q`; only its sign is invariant. For example the
Hopf normal form `ż = (p + iω) z + s z|z|²` written in `z = x + iy` has `Re c1 / ω = s/ω`,
but with `⟨q, q⟩ = 1` (so `x + iy = √2 z`) the same system has `l1 = 2s/ω` — the value
given here.

This module is long because it is a catalogue: one short normal form per
bifurcation, each with its closed-form truth for the tests.
"""

import abc
import math
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import jit
from .._custom_types import Array, Float

# --------------------------------------------------------------------------- vector fields
# Module-level (not methods or lambdas) so that they are one object for every instance.
# Written as polynomials (no abs/sqrt) so that they accept complex arguments too.


def saddle_node_field(t, x, args):
    """`x' = p + a x²` (the fold normal form; `a = −1` gives `x' = p − x²`)."""
    return args["p"] + args["a"] * x**2


def transcritical_field(t, x, args):
    """`x' = p x − x²`."""
    return args["p"] * x - x**2


def pitchfork_field(t, x, args):
    """`x' = p x + s x³` (`s = −1` supercritical, `s = +1` subcritical)."""
    return args["p"] * x + args["s"] * x**3


def hopf_field(t, x, args):
    """`x' = p x − ω y + s x (x² + y²)`, `y' = ω x + p y + s y (x² + y²)`."""
    p, omega, s = args["p"], args["omega"], args["s"]
    x1, x2 = x[0], x[1]
    rho = x1**2 + x2**2
    return jnp.stack([p * x1 - omega * x2 + s * x1 * rho, omega * x1 + p * x2 + s * x2 * rho])


def cusp_field(t, x, args):
    """`x' = b1 + b2 x − x³`."""
    return args["b1"] + args["b2"] * x - x**3


def bogdanov_takens_field(t, x, args):
    """`x' = y`, `y' = b1 + b2 x + x² + x y`."""
    x1, x2 = x[0], x[1]
    return jnp.stack([x2, args["b1"] + args["b2"] * x1 + x1**2 + x1 * x2])


def bautin_field(t, x, args):
    """`r' = r (b1 + b2 r² − r⁴)`, `θ' = 1`, in Cartesian coordinates."""
    x1, x2 = x[0], x[1]
    rho = x1**2 + x2**2
    g = args["b1"] + args["b2"] * rho - rho**2
    return jnp.stack([g * x1 - x2, x1 + g * x2])


# --------------------------------------------------------------------------- results


class AnalyticPoint(NamedTuple):
    """A bifurcation point known in closed form.

    - `kind`: `"fold"`, `"hopf"`, `"branch_point"`, `"fold_cycle"`, `"cusp"`, `"bt"` or
        `"bautin"`;
    - `params`: the full parameter dict at the point;
    - `x`: the state (for `"fold_cycle"`, a point on the cycle);
    - `data`: the kind's coefficients, e.g. `{"a": ...}` (fold), `{"omega": ..., "l1": ...}`
        (Hopf); see the module docstring for their normalisation.
    """

    kind: str
    params: dict[str, float]
    x: np.ndarray
    data: dict[str, float]


def _point(kind: str, params: dict, x, **data) -> AnalyticPoint:
    return AnalyticPoint(
        kind,
        {k: float(v) for k, v in params.items()},
        np.asarray(x, dtype=float),
        {k: float(v) for k, v in data.items()},
    )


def _nan_unless(cond, value):
    return jnp.where(cond, value, jnp.nan)


def _sqrt_or_nan(value):
    """`sqrt(value)` where `value ≥ 0`, NaN elsewhere (without a NaN-producing sqrt)."""
    ok = value >= 0
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, value, 0.0)), jnp.nan)


def _as_float(params: dict) -> dict:
    return {k: jnp.asarray(v, dtype=jnp.result_type(float)) for k, v in params.items()}


def _check_params(name: str, params: dict[str, Any], expected: tuple[str, ...]) -> dict:
    unknown = sorted(set(params) - set(expected))
    missing = sorted(set(expected) - set(params))
    if unknown or missing:
        raise ValueError(
            f"{name}: parameters {sorted(params)} do not match; unknown {unknown}, missing "
            f"{missing}. Pass all of {list(expected)}."
        )
    for k, v in params.items():
        if isinstance(v, jax.core.Tracer):
            continue
        arr = np.asarray(v)
        if arr.shape != () or not np.isfinite(arr):
            raise ValueError(f"{name}: parameter {k!r} must be a finite scalar; got {v!r}.")
    return dict(params)


# --------------------------------------------------------------------------- base class


class AbstractNormalForm(eqx.Module):
    """A vector field with known bifurcations. See the module docstring.

    Subclasses are final and set the class variables `name`, `param`, `vector_field`
    (a module-level function wrapped in `staticmethod`) and the fields `params`, `x0`.
    """

    name: eqx.AbstractClassVar[str]
    param: eqx.AbstractClassVar[str]
    vector_field: eqx.AbstractClassVar[Callable]
    params: eqx.AbstractVar[dict[str, float]]
    x0: eqx.AbstractVar[Float[Array, " dim"]]

    @property
    def dim(self) -> int:
        """The state dimension."""
        return self.x0.shape[0]

    def _params(self, params) -> dict:
        if params is None:
            return _as_float(self.params)
        return _as_float({**self.params, **params})

    def __call__(self, t, x, args=None):
        """`vector_field(t, x, args)` with `args` defaulting to `params`."""
        return self.vector_field(t, x, self.params if args is None else args)

    def jacobian(self, x, params=None) -> Float[Array, "dim dim"]:
        """`∂f/∂x` at `x` (`params` entries override the defaults)."""
        p = self._params(params)
        return jax.jacfwd(lambda y: self.vector_field(0.0, y, p))(jnp.asarray(x, float))

    @abc.abstractmethod
    def equilibria(self, params=None) -> Float[Array, "k dim"]:
        """All equilibria at `params` (entries override the defaults), as a fixed-shape
        array padded with NaN rows where an equilibrium does not exist. Traceable."""

    @abc.abstractmethod
    def special_points(self, params=None) -> list[AnalyticPoint]:
        """The bifurcations met as `param` varies with the other parameters fixed at
        `params` (entries override the defaults). Host-side."""


# --------------------------------------------------------------------------- codim 1


class SaddleNode(AbstractNormalForm):
    """Fold (saddle-node): `x' = p + a x²`, default `a = −1` (`x' = p − x²`).

    Equilibria `x = ±√(−p/a)` when `p/a ≤ 0`; fold at `p = 0`, `x = 0` with normal-form
    coefficient `a` (the equation is its own normal form).

    **Arguments:** `p` (default `1.0`), `a` (default `−1.0`, must be non-zero).
    """

    name: ClassVar[str] = "saddle_node"
    param: ClassVar[str] = "p"
    vector_field: ClassVar[Callable] = staticmethod(saddle_node_field)
    params: dict[str, float]
    x0: Float[Array, " 1"]

    def __init__(self, p=1.0, a=-1.0):
        self.params = _check_params("SaddleNode", {"p": p, "a": a}, ("p", "a"))
        if not isinstance(a, jax.core.Tracer) and a == 0:
            raise ValueError("SaddleNode: a must be non-zero (a = 0 has no fold); got a=0.")
        self.x0 = jnp.nan_to_num(self.equilibria()[0], nan=0.0)

    def equilibria(self, params=None) -> Float[Array, "2 1"]:
        """`[[+√(−p/a)], [−√(−p/a)]]`; NaN when `p/a > 0`. For `a < 0` the first is
        stable."""
        p = self._params(params)
        r = _sqrt_or_nan(-p["p"] / p["a"])
        return jnp.stack([r, -r])[:, None]

    def special_points(self, params=None) -> list[AnalyticPoint]:
        p = {**self.params, **(params or {})}
        return [_point("fold", {**p, "p": 0.0}, [0.0], a=p["a"])]


class Transcritical(AbstractNormalForm):
    """Transcritical: `x' = p x − x²`. Equilibria `0` and `p`, exchanging stability at
    the branch point `p = 0`, `x = 0`.

    **Arguments:** `p` (default `−1.0`).
    """

    name: ClassVar[str] = "transcritical"
    param: ClassVar[str] = "p"
    vector_field: ClassVar[Callable] = staticmethod(transcritical_field)
    params: dict[str, float]
    x0: Float[Array, " 1"]

    def __init__(self, p=-1.0):
        self.params = _check_params("Transcritical", {"p": p}, ("p",))
        self.x0 = jnp.zeros((1,))

    def equilibria(self, params=None) -> Float[Array, "2 1"]:
        """`[[0], [p]]` (`0` is stable for `p < 0`, `p` for `p > 0`)."""
        p = self._params(params)
        return jnp.stack([jnp.zeros_like(p["p"]), p["p"]])[:, None]

    def special_points(self, params=None) -> list[AnalyticPoint]:
        p = {**self.params, **(params or {})}
        return [_point("branch_point", {**p, "p": 0.0}, [0.0])]


class Pitchfork(AbstractNormalForm):
    """Pitchfork: `x' = p x + s x³`; `s = −1` supercritical (default), `s = +1`
    subcritical.

    Equilibria `0` and `±√(−p/s)` when `p s < 0`; branch point at `p = 0`, `x = 0`, with
    cubic coefficient `c = s` (`f_xxx / 6`).

    **Arguments:** `p` (default `−1.0`), `s` (default `−1.0`, non-zero).
    """

    name: ClassVar[str] = "pitchfork"
    param: ClassVar[str] = "p"
    vector_field: ClassVar[Callable] = staticmethod(pitchfork_field)
    params: dict[str, float]
    x0: Float[Array, " 1"]

    def __init__(self, p=-1.0, s=-1.0):
        self.params = _check_params("Pitchfork", {"p": p, "s": s}, ("p", "s"))
        if not isinstance(s, jax.core.Tracer) and s == 0:
            raise ValueError("Pitchfork: s must be non-zero (−1 supercritical, +1 subcritical).")
        self.x0 = jnp.zeros((1,))

    def equilibria(self, params=None) -> Float[Array, "3 1"]:
        """`[[0], [+√(−p/s)], [−√(−p/s)]]`, NaN rows when `p s > 0`."""
        p = self._params(params)
        r = _sqrt_or_nan(-p["p"] / p["s"])
        return jnp.stack([jnp.zeros_like(r), r, -r])[:, None]

    def special_points(self, params=None) -> list[AnalyticPoint]:
        p = {**self.params, **(params or {})}
        return [_point("branch_point", {**p, "p": 0.0}, [0.0], c=p["s"])]


class Hopf(AbstractNormalForm):
    """Hopf: `x' = p x − ω y + s x (x²+y²)`, `y' = ω x + p y + s y (x²+y²)`, i.e.
    `r' = r (p + s r²)`, `θ' = ω` in polar coordinates.

    The origin is the only equilibrium, with eigenvalues `p ± iω`; Hopf at `p = 0` with
    frequency `ω` and first Lyapunov coefficient `l1 = 2s/ω` (normalisation `⟨q,q⟩ = 1`,
    see the module docstring; `s/ω` in the coordinates `z = x + iy`). `s < 0`:
    supercritical, a stable cycle for `p > 0`; `s > 0`: subcritical, an unstable cycle for
    `p < 0`. The cycle is the circle of radius `√(−p/s)`, run at constant angular speed
    `ω`, so its period is exactly `2π/|ω|`; its non-trivial Floquet multiplier is
    `exp(−2p · 2π/|ω|)`.

    **Arguments:** `p` (default `−1.0`), `omega` (default `1.0`, non-zero), `s`
    (default `−1.0`, non-zero).
    """

    name: ClassVar[str] = "hopf"
    param: ClassVar[str] = "p"
    vector_field: ClassVar[Callable] = staticmethod(hopf_field)
    params: dict[str, float]
    x0: Float[Array, " 2"]

    def __init__(self, p=-1.0, omega=1.0, s=-1.0):
        self.params = _check_params(
            "Hopf", {"p": p, "omega": omega, "s": s}, ("p", "omega", "s")
        )
        for k, v in (("omega", omega), ("s", s)):
            if not isinstance(v, jax.core.Tracer) and v == 0:
                raise ValueError(f"Hopf: {k} must be non-zero; got {k}=0.")
        self.x0 = jnp.zeros((2,))

    def equilibria(self, params=None) -> Float[Array, "1 2"]:
        """`[[0, 0]]`."""
        p = self._params(params)
        return jnp.zeros((1, 2), jnp.result_type(p["p"]))

    def special_points(self, params=None) -> list[AnalyticPoint]:
        p = {**self.params, **(params or {})}
        om, s = float(p["omega"]), float(p["s"])
        return [_point("hopf", {**p, "p": 0.0}, [0.0, 0.0], omega=abs(om), l1=2 * s / abs(om))]

    def cycle_radius(self, params=None) -> Float[Array, ""]:
        """`√(−p/s)` where `p s < 0` (where the cycle exists), NaN elsewhere."""
        p = self._params(params)
        return jnp.where(p["p"] == 0, jnp.nan, _sqrt_or_nan(-p["p"] / p["s"]))

    def cycle_period(self, params=None) -> Float[Array, ""]:
        """`2π/|ω|` (exact, for every amplitude)."""
        p = self._params(params)
        return 2 * jnp.pi / jnp.abs(p["omega"])

    def cycle_multiplier(self, params=None) -> Float[Array, ""]:
        """The non-trivial Floquet multiplier `exp(−2p T)`, `T = 2π/|ω|` (< 1: stable)."""
        p = self._params(params)
        return _nan_unless(
            jnp.isfinite(self.cycle_radius(params)),
            jnp.exp(-2 * p["p"] * self.cycle_period(params)),
        )

    def cycle(self, t, params=None) -> Float[Array, "*t 2"]:
        """The periodic solution `r (cos ωt, sin ωt)` at times `t` (NaN if none)."""
        p = self._params(params)
        t = jnp.asarray(t, float)
        r = self.cycle_radius(params)
        return r * jnp.stack([jnp.cos(p["omega"] * t), jnp.sin(p["omega"] * t)], axis=-1)


# --------------------------------------------------------------------------- codim 2


@jit
def _cusp_roots(b1, b2):
    """Real roots of `b1 + b2 x − x³`, descending, NaN-padded, with multiplicity."""
    disc = 4 * b2**3 - 27 * b1**2  # > 0: three distinct real roots
    three = disc >= 0
    # trigonometric form (three real roots; needs b2 > 0)
    b2p = jnp.where(three & (b2 > 0), b2, 1.0)
    c = jnp.clip(1.5 * b1 / b2p * jnp.sqrt(3 / b2p), -1.0, 1.0)
    theta = jnp.arccos(c)
    amp = 2 * jnp.sqrt(b2p / 3)
    ks = jnp.arange(3)
    trig = amp * jnp.cos(theta / 3 - 2 * jnp.pi * ks / 3)
    # Cardano (one real root)
    s = jnp.sqrt(jnp.where(three, 0.0, b1**2 / 4 - b2**3 / 27))
    one = jnp.cbrt(b1 / 2 + s) + jnp.cbrt(b1 / 2 - s)
    card = jnp.stack([one, jnp.nan * one, jnp.nan * one])
    triple = (b1 == 0) & (b2 == 0)
    roots = jnp.where(triple, jnp.zeros(3), jnp.where(three, trig, card))
    # one Newton step polishes the trigonometric roots (skipped where f' ≈ 0)
    f = b1 + b2 * roots - roots**3
    df = b2 - 3 * roots**2
    safe = jnp.abs(df) > 1e-8 * (1 + jnp.abs(b2))
    roots = jnp.where(safe, roots - f / jnp.where(safe, df, 1.0), roots)
    return -jnp.sort(-roots)


class Cusp(AbstractNormalForm):
    """Cusp: `x' = b1 + b2 x − x³`.

    One equilibrium where `27 b1² > 4 b2³`, three where `27 b1² < 4 b2³`. The fold curve
    `27 b1² = 4 b2³` is parametrised by its equilibrium `x` as `(b1, b2) = (−2x³, 3x²)`
    (`fold_curve`); each fold has coefficient `a = ½ f_xx = −3x`. The cusp point is
    `b1 = b2 = 0`, `x = 0`, with cubic coefficient `c = f_xxx / 6 = −1`.

    **Arguments:** `b1` (default `−1.0`; the continuation parameter), `b2` (default `1.0`).
    """

    name: ClassVar[str] = "cusp"
    param: ClassVar[str] = "b1"
    vector_field: ClassVar[Callable] = staticmethod(cusp_field)
    params: dict[str, float]
    x0: Float[Array, " 1"]

    def __init__(self, b1=-1.0, b2=1.0):
        self.params = _check_params("Cusp", {"b1": b1, "b2": b2}, ("b1", "b2"))
        self.x0 = self.equilibria()[0]

    def equilibria(self, params=None) -> Float[Array, "3 1"]:
        """The real roots, descending (a double root appears twice), NaN rows when there
        is only one."""
        p = self._params(params)
        return _cusp_roots(p["b1"], p["b2"])[:, None]

    @staticmethod
    def fold_curve(x) -> tuple[Float[Array, "*x"], Float[Array, "*x"]]:
        """The fold curve `(b1, b2) = (−2x³, 3x²)`, parametrised by the fold's state `x`
        (so `27 b1² = 4 b2³`)."""
        x = jnp.asarray(x, float)
        return -2 * x**3, 3 * x**2

    def special_points(self, params=None) -> list[AnalyticPoint]:
        """Two folds, at `b1 = ∓2 (b2/3)^{3/2}` (`x = ±√(b2/3)`), when `b2 > 0`; none
        otherwise."""
        p = {**self.params, **(params or {})}
        b2 = float(p["b2"])
        if b2 <= 0:
            return []
        out = []
        for x in (math.sqrt(b2 / 3), -math.sqrt(b2 / 3)):
            out.append(_point("fold", {**p, "b1": -2 * x**3}, [x], a=-3 * x))
        return out

    def codim2_points(self) -> list[AnalyticPoint]:
        """`[cusp at b1 = b2 = 0, x = 0, c = −1]`."""
        return [_point("cusp", {"b1": 0.0, "b2": 0.0}, [0.0], c=-1.0)]


class BogdanovTakens(AbstractNormalForm):
    """Bogdanov–Takens: `x' = y`, `y' = b1 + b2 x + x² + x y` (Kuznetsov's normal form
    with `s = +1`).

    Equilibria `(x±, 0)`, `x± = (−b2 ± √(b2² − 4 b1))/2`; `x+` is a saddle, `x−` a node or
    focus. Curves through the BT point `b1 = b2 = 0` (double zero eigenvalue, coefficients
    `a = b = 1`):

    - fold `b1 = b2²/4` (`x = −b2/2`), coefficient `a = 2/b2` (`fold_curve`);
    - Hopf `b1 = 0`, `b2 < 0` (at the origin, `ω = √(−b2)`,
        `l1 = 1/(2ω³(1 + ω²)) > 0`: subcritical) (`hopf_curve`);
    - homoclinic `b1 = −(6/25) b2² + o(b2²)`, `b2 < 0` — only the leading-order asymptote
        is known in closed form (`homoclinic_curve`).

    **Arguments:** `b1` (default `−0.5`; the continuation parameter), `b2` (default `−1.0`).
    """

    name: ClassVar[str] = "bogdanov_takens"
    param: ClassVar[str] = "b1"
    vector_field: ClassVar[Callable] = staticmethod(bogdanov_takens_field)
    params: dict[str, float]
    x0: Float[Array, " 2"]

    def __init__(self, b1=-0.5, b2=-1.0):
        self.params = _check_params("BogdanovTakens", {"b1": b1, "b2": b2}, ("b1", "b2"))
        self.x0 = jnp.nan_to_num(self.equilibria()[1], nan=0.0)

    def equilibria(self, params=None) -> Float[Array, "2 2"]:
        """`[[x+, 0], [x−, 0]]`, NaN rows when `b2² < 4 b1`."""
        p = self._params(params)
        root = _sqrt_or_nan(p["b2"] ** 2 - 4 * p["b1"])
        xs = jnp.stack([(-p["b2"] + root) / 2, (-p["b2"] - root) / 2])
        return jnp.stack([xs, jnp.where(jnp.isnan(xs), jnp.nan, 0.0)], axis=-1)

    @staticmethod
    def fold_curve(b2) -> Float[Array, "*b2"]:
        """`b1 = b2²/4`."""
        return jnp.asarray(b2, float) ** 2 / 4

    @staticmethod
    def hopf_curve(b2) -> Float[Array, "*b2"]:
        """`b1 = 0` for `b2 < 0`, NaN for `b2 ≥ 0` (there the trace vanishes at a
        saddle: a neutral saddle, not a Hopf point)."""
        b2 = jnp.asarray(b2, float)
        return jnp.where(b2 < 0, 0.0, jnp.nan)

    @staticmethod
    def homoclinic_curve(b2) -> Float[Array, "*b2"]:
        """The leading-order asymptote `b1 ≈ −(6/25) b2²` for `b2 < 0` (NaN for
        `b2 ≥ 0`); accurate only as `b2 → 0⁻`."""
        b2 = jnp.asarray(b2, float)
        return jnp.where(b2 < 0, -6 / 25 * b2**2, jnp.nan)

    def special_points(self, params=None) -> list[AnalyticPoint]:
        """The Hopf point at `b1 = 0` (when `b2 < 0`) and the fold at `b1 = b2²/4` (when
        `b2 ≠ 0`), in increasing `b1`."""
        p = {**self.params, **(params or {})}
        b2 = float(p["b2"])
        out = []
        if b2 < 0:
            om = math.sqrt(-b2)
            out.append(
                _point("hopf", {**p, "b1": 0.0}, [0.0, 0.0], omega=om,
                       l1=1 / (2 * om**3 * (1 + om**2)))
            )
        if b2 != 0:
            out.append(_point("fold", {**p, "b1": b2**2 / 4}, [-b2 / 2, 0.0], a=2 / b2))
        return out

    def codim2_points(self) -> list[AnalyticPoint]:
        """`[bt at b1 = b2 = 0, x = 0, a = b = 1]`."""
        return [_point("bt", {"b1": 0.0, "b2": 0.0}, [0.0, 0.0], a=1.0, b=1.0)]


class Bautin(AbstractNormalForm):
    """Bautin (generalised Hopf): `r' = r (b1 + b2 r² − r⁴)`, `θ' = 1`, in Cartesian
    coordinates.

    The origin (eigenvalues `b1 ± i`) has a Hopf bifurcation on `b1 = 0` with `ω = 1`
    and `l1 = 2 b2` (normalisation `⟨q,q⟩ = 1`; `b2` in `z = x + iy`), supercritical for
    `b2 < 0`, subcritical for `b2 > 0`. At the Bautin point `b1 = b2 = 0`, `l1 = 0` and
    `l2 = −4 < 0` (`l2 = Re c2 / ω` for `ż = iωz + c1 z|z|² + c2 z|z|⁴` with `⟨q,q⟩ = 1`;
    `−1` in `z = x + iy`). Cycles are circles of radius `r` with
    `r² = (b2 ± √(b2² + 4 b1))/2` (the `+` one, outer, stable; the `−` one, inner,
    unstable), all of period `2π`; they collide on the fold-of-cycles curve
    `b2² + 4 b1 = 0`, `b2 > 0`, at `r² = b2/2`.

    **Arguments:** `b1` (default `−0.1`; the continuation parameter), `b2` (default `0.5`).
    """

    name: ClassVar[str] = "bautin"
    param: ClassVar[str] = "b1"
    vector_field: ClassVar[Callable] = staticmethod(bautin_field)
    params: dict[str, float]
    x0: Float[Array, " 2"]

    def __init__(self, b1=-0.1, b2=0.5):
        self.params = _check_params("Bautin", {"b1": b1, "b2": b2}, ("b1", "b2"))
        self.x0 = jnp.zeros((2,))

    def equilibria(self, params=None) -> Float[Array, "1 2"]:
        """`[[0, 0]]`."""
        p = self._params(params)
        return jnp.zeros((1, 2), jnp.result_type(p["b1"]))

    def cycle_radii(self, params=None) -> Float[Array, "2"]:
        """`[r_outer, r_inner]`, `r² = (b2 ± √(b2² + 4 b1))/2`, NaN where a cycle does
        not exist."""
        p = self._params(params)
        root = _sqrt_or_nan(p["b2"] ** 2 + 4 * p["b1"])
        rho = jnp.stack([(p["b2"] + root) / 2, (p["b2"] - root) / 2])
        return jnp.where(rho > 0, jnp.sqrt(jnp.where(rho > 0, rho, 1.0)), jnp.nan)

    def cycle_period(self, params=None) -> Float[Array, ""]:
        """`2π` (every cycle)."""
        return jnp.asarray(2 * jnp.pi, float)

    def cycle_multipliers(self, params=None) -> Float[Array, "2"]:
        """Non-trivial Floquet multipliers `exp(2π · 2r²(b2 − 2r²))` of
        `[outer, inner]` (NaN where absent)."""
        p = self._params(params)
        rho = self.cycle_radii(params) ** 2
        return jnp.exp(2 * jnp.pi * 2 * rho * (p["b2"] - 2 * rho))

    def cycle(self, t, params=None, *, outer: bool = True) -> Float[Array, "*t 2"]:
        """The periodic solution `r (cos t, sin t)` (outer or inner cycle; NaN if none)."""
        t = jnp.asarray(t, float)
        r = self.cycle_radii(params)[0 if outer else 1]
        return r * jnp.stack([jnp.cos(t), jnp.sin(t)], axis=-1)

    @staticmethod
    def hopf_curve(b2) -> Float[Array, "*b2"]:
        """`b1 = 0` (every `b2`; `b2 = 0` is the Bautin point)."""
        return jnp.zeros_like(jnp.asarray(b2, float))

    @staticmethod
    def fold_cycle_curve(b2) -> Float[Array, "*b2"]:
        """`b1 = −b2²/4` for `b2 > 0` (NaN for `b2 ≤ 0`)."""
        b2 = jnp.asarray(b2, float)
        return jnp.where(b2 > 0, -(b2**2) / 4, jnp.nan)

    def special_points(self, params=None) -> list[AnalyticPoint]:
        """The fold of cycles at `b1 = −b2²/4` (when `b2 > 0`; `x` a point on the cycle)
        and the Hopf point at `b1 = 0`, in increasing `b1`."""
        p = {**self.params, **(params or {})}
        b2 = float(p["b2"])
        out = []
        if b2 > 0:
            r = math.sqrt(b2 / 2)
            out.append(
                _point("fold_cycle", {**p, "b1": -(b2**2) / 4}, [r, 0.0], period=2 * math.pi,
                       radius=r)
            )
        out.append(_point("hopf", {**p, "b1": 0.0}, [0.0, 0.0], omega=1.0, l1=2 * b2))
        return out

    def codim2_points(self) -> list[AnalyticPoint]:
        """`[bautin at b1 = b2 = 0, ω = 1, l1 = 0, l2 = −4]`."""
        return [_point("bautin", {"b1": 0.0, "b2": 0.0}, [0.0, 0.0], omega=1.0, l1=0.0, l2=-4.0)]
