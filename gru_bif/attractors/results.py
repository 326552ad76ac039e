"""The result of `find_attractors`: `Attractors` (fixed capacity plus a count), the
attractor kinds and the reasons a sample gets no attractor."""

from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._custom_types import Array, Bool, Float, Int


# --------------------------------------------------------------------------- codes

ATTRACTOR_KINDS: tuple[str, ...] = ("fixed point", "cycle", "other")
"""Names of the attractor kinds; `Attractors.kind` holds indices into this tuple (`-1`
for padding)."""

FIXED_POINT, CYCLE, OTHER = range(3)

LABEL_REASONS: tuple[str, ...] = (
    "assigned",
    "integration_failed",
    "escaped",
    "not_converged",
    "unstable_equilibrium",
    "capacity_exceeded",
)
"""Why a sample has the label it has; `Attractors.reason` holds indices into this tuple.

- `"assigned"`: the sample is in the basin of attractor `labels[i] >= 0`;
- `"integration_failed"`: Diffrax did not reach the end (e.g. `max_steps`; raise it, or
    use a stiff solver) or produced NaN/inf;
- `"escaped"`: the trajectory left the ball `max|x| <= escape_radius`;
- `"not_converged"`: after `t_transient` the tail is neither at a fixed point, nor on a
    cycle, nor stationary (it still shrinks): increase `t_transient` (or `t_sample`
    for cycles longer than `t_sample / 2`);
- `"unstable_equilibrium"`: the trajectory settled on an equilibrium with an unstable
    direction (a sample on a basin boundary, such as the stable manifold of a saddle,
    or exactly on a repeller);
- `"capacity_exceeded"`: more distinct attractors were found than `max_attractors`.
"""

(ASSIGNED, INTEGRATION_FAILED, ESCAPED, NOT_CONVERGED, UNSTABLE_EQUILIBRIUM,
 CAPACITY_EXCEEDED) = range(6)


def kind_name(code: int) -> str:
    """The name of an attractor-kind code (`"none"` for `-1`, the padding code)."""
    code = int(code)
    if code == -1:
        return "none"
    if not 0 <= code < len(ATTRACTOR_KINDS):
        raise ValueError(f"Unknown attractor kind {code}; valid: -1, 0, 1, 2.")
    return ATTRACTOR_KINDS[code]


# --------------------------------------------------------------------------- results


class Attractors(eqx.Module):
    """Attractors found by [`gru_bif.attractors.find_attractors`][], with the label of
    every sample. Capacity `K` (`max_attractors`), NaN-padded (kinds and labels `-1`);
    `count` attractors are real, always in the first rows.

    **Fields:**

    - `kind`: `(K,)` indices into `ATTRACTOR_KINDS` (fixed point, cycle, other).
    - `x`: `(K, d)` a representative state: the (Newton-polished) fixed point, a point
        of the cycle, the mean of another attractor's tail.
    - `orbit`: `(K, n_orbit, d)`: a cycle sampled uniformly in phase over one period
        (starting at `x`); another attractor's tail, subsampled; a fixed point repeated.
    - `period`: `(K,)` the period of each cycle (NaN for the others).
    - `eigenvalues`: `(K, d)` complex eigenvalues of the Jacobian at each fixed point
        (NaN for the others); `equilibrium_type`: `(K,)` their type codes, indices into
        `gru_bif.EQUILIBRIUM_TYPES` (`-1` for the others).
    - `features`: `(K, 4d)` the signature: mean, standard deviation, 5 % and 95 %
        quantiles of each coordinate over the representative's tail.
    - `sample_index`: `(K,)` the representative sample.
    - `equilibrium_index`: `(K,)` for a fixed point, the row of the `equilibria`
        passed to `find_attractors` that it matches (`-1`: none, or none passed).
    - `num_samples_in_basin`: `(K,)`; `fractions`: `(K,)` basin fractions `n/N`;
        `standard_errors`: `(K,)` `√(f(1 − f)/N)` (zero for padding).
    - `valid`: `(K,)` which rows hold an attractor; `count`: how many.
    - `truncated`: whether more attractors were found than the capacity holds (those
        samples have the reason `"capacity_exceeded"`).
    - `labels`: `(N,)` the attractor of each sample, `-1` if none; `reason`: `(N,)`
        indices into `LABEL_REASONS`.
    - `final_state`: `(N, d)` each sample's state at the end of its integration.
    """

    kind: Int[Array, " K"]
    x: Float[Array, "K d"]
    orbit: Float[Array, "K M d"]
    period: Float[Array, " K"]
    eigenvalues: Array
    equilibrium_type: Int[Array, " K"]
    features: Float[Array, "K F"]
    sample_index: Int[Array, " K"]
    equilibrium_index: Int[Array, " K"]
    num_samples_in_basin: Int[Array, " K"]
    fractions: Float[Array, " K"]
    standard_errors: Float[Array, " K"]
    valid: Bool[Array, " K"]
    count: Int[Array, ""]
    truncated: Bool[Array, ""]
    labels: Int[Array, " N"]
    reason: Int[Array, " N"]
    final_state: Float[Array, "N d"]

    @property
    def num_samples(self) -> int:
        return int(self.labels.shape[0])

    @property
    def unlabelled_fraction(self) -> Float[Array, ""]:
        """The fraction of samples with label `-1`."""
        return jnp.mean(self.labels < 0)

    @property
    def kind_names(self) -> list[str]:
        """The kind name of each real attractor (host side)."""
        return [kind_name(k) for k in np.asarray(self.kind)[: int(self.count)]]

    def reason_counts(self) -> dict[str, int]:
        """How many samples have each reason, e.g. `{"assigned": 998, "escaped": 2}`."""
        r = np.asarray(self.reason)
        return {name: int(np.sum(r == i)) for i, name in enumerate(LABEL_REASONS)
                if np.any(r == i)}

    def summary(self) -> str:
        """A table: kind, representative state, period or eigenvalues, basin fraction
        ± standard error."""
        n = int(self.count)
        lines = [
            f"Attractors: {n} from {self.num_samples} samples"
            + (" [truncated: raise max_attractors]" if bool(self.truncated) else "")
            + f"; unlabelled {float(self.unlabelled_fraction):.4f} "
            f"{self.reason_counts()}"
        ]
        x = np.asarray(self.x)
        d = x.shape[1]
        show = min(d, 4)
        for i in range(n):
            k = int(self.kind[i])
            coords = ", ".join(f"{v:+.6f}" for v in x[i, :show]) + (", ..." if d > show else "")
            if k == CYCLE:
                extra = f"period {float(self.period[i]):.10g}"
            elif k == FIXED_POINT:
                ev = np.asarray(self.eigenvalues[i])
                extra = "eig " + ", ".join(
                    f"{z.real:+.4g}{z.imag:+.4g}j" if z.imag else f"{z.real:+.4g}"
                    for z in sorted(ev, key=lambda z: -z.real)[:4]
                )
            else:
                extra = ""
            lines.append(
                f"  {i:>2}  {kind_name(k):<11} ({coords})  "
                f"fraction {float(self.fractions[i]):.4f} ± "
                f"{float(self.standard_errors[i]):.4f}  {extra}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        try:
            return self.summary()
        except Exception:  # traced values
            return eqx.tree_pformat(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: every real attractor with all its fields, every sample's
        label, reason and final state (NaN written as `null`). `Attractors.from_dict`
        rebuilds the result exactly (floats are written by `repr`)."""
        n = int(self.count)
        out = []
        for i in range(n):
            ev = np.asarray(self.eigenvalues[i])
            out.append({
                "kind": kind_name(int(self.kind[i])),
                "x": _floats(self.x[i]),
                "orbit": [_floats(row) for row in np.asarray(self.orbit[i])],
                "period": _float(self.period[i]),
                "eigenvalues_re": _floats(ev.real),
                "eigenvalues_im": _floats(ev.imag),
                "equilibrium_type": int(self.equilibrium_type[i]),
                "features": _floats(self.features[i]),
                "sample_index": int(self.sample_index[i]),
                "equilibrium_index": int(self.equilibrium_index[i]),
                "num_samples": int(self.num_samples_in_basin[i]),
                "fraction": float(self.fractions[i]),
                "standard_error": float(self.standard_errors[i]),
            })
        return {
            "format": "gru_bif.attractors",
            "version": 1,
            "capacity": int(self.kind.shape[0]),
            "num_samples": self.num_samples,
            "truncated": bool(self.truncated),
            "attractors": out,
            "labels": [int(v) for v in np.asarray(self.labels)],
            "reason": [LABEL_REASONS[int(v)] for v in np.asarray(self.reason)],
            "final_state": [_floats(row) for row in np.asarray(self.final_state)],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Attractors":
        """Rebuild an `Attractors` from `to_dict()` output.

        **Raises:** `ValueError` for a dict that `to_dict` did not write (wrong
        `format`, missing entries)."""
        if not isinstance(data, dict) or data.get("format") != "gru_bif.attractors":
            raise ValueError(
                "not a gru_bif attractors dict: expected 'format': 'gru_bif.attractors' "
                "(written by Attractors.to_dict)."
            )
        try:
            recs = data["attractors"]
            K = int(data["capacity"])
            labels = np.asarray(data["labels"], np.int32)
            reason = np.asarray([LABEL_REASONS.index(r) for r in data["reason"]], np.int32)
            final = _array(data["final_state"])
        except (KeyError, ValueError) as e:
            raise ValueError(f"Attractors.from_dict: a bad or missing entry ({e}).") from e
        n = len(recs)
        d = final.shape[1]
        M = len(recs[0]["orbit"]) if recs else 1
        F = len(recs[0]["features"]) if recs else 4 * d
        dtype = jnp.result_type(float)
        kind = np.full((K,), -1, np.int32)
        x = np.full((K, d), np.nan)
        orbit = np.full((K, M, d), np.nan)
        period = np.full((K,), np.nan)
        eig = np.full((K, d), np.nan, complex)
        eq_type = np.full((K,), -1, np.int32)
        features = np.full((K, F), np.nan)
        sample_index = np.full((K,), -1, np.int32)
        eq_index = np.full((K,), -1, np.int32)
        n_in = np.zeros((K,), np.int32)
        frac = np.zeros((K,))
        se = np.zeros((K,))
        for i, r in enumerate(recs):
            kind[i] = ATTRACTOR_KINDS.index(r["kind"])
            x[i] = _array(r["x"])
            orbit[i] = _array(r["orbit"])
            period[i] = np.nan if r["period"] is None else r["period"]
            eig[i] = _array(r["eigenvalues_re"]) + 1j * _array(r["eigenvalues_im"])
            eq_type[i] = r["equilibrium_type"]
            features[i] = _array(r["features"])
            sample_index[i] = r["sample_index"]
            eq_index[i] = r["equilibrium_index"]
            n_in[i] = r["num_samples"]
            frac[i] = r["fraction"]
            se[i] = r["standard_error"]
        return cls(
            kind=jnp.asarray(kind),
            x=jnp.asarray(x, dtype),
            orbit=jnp.asarray(orbit, dtype),
            period=jnp.asarray(period, dtype),
            eigenvalues=jnp.asarray(eig),
            equilibrium_type=jnp.asarray(eq_type),
            features=jnp.asarray(features, dtype),
            sample_index=jnp.asarray(sample_index),
            equilibrium_index=jnp.asarray(eq_index),
            num_samples_in_basin=jnp.asarray(n_in),
            fractions=jnp.asarray(frac, dtype),
            standard_errors=jnp.asarray(se, dtype),
            valid=jnp.asarray(np.arange(K) < n),
            count=jnp.asarray(n, jnp.int32),
            truncated=jnp.asarray(bool(data.get("truncated", False))),
            labels=jnp.asarray(labels),
            reason=jnp.asarray(reason),
            final_state=jnp.asarray(final, dtype),
        )


def _float(v) -> "float | None":
    v = float(v)
    return v if np.isfinite(v) else None


def _floats(a) -> list:
    return [_float(v) for v in np.asarray(a).reshape(-1)]


def _array(rows) -> np.ndarray:
    return np.asarray(
        [[np.nan if v is None else v for v in r] for r in rows]
        if rows and isinstance(rows[0], list)
        else [np.nan if v is None else v for v in rows],
        float,
    )


