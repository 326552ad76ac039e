"""A chaotic continuous-time GRU found with `chaos_map` (issue #17's search).

`chaotic_gru()` returns a 4-unit GRU (reset "before", the paper's convention, no inputs)
whose flow `dh/dt = (1 − z) ⊙ (ĥ − h)` has a chaotic attractor. Measured (float64,
`lyapunov_spectrum`, t_transient = 500, t_total = 10,000, dt_reorth = 1, Tsit5 with
fixed steps of 0.02):

| start `x0` | λ1 | λ2 | λ3 | λ4 | Kaplan–Yorke dim. |
|---|---|---|---|---|---|
| `0.3 · N(0, I)` (`jax.random.key(1)`) | 0.1175 ± 0.0043 | −0.0001 ± 0.0007 | −0.2483 ± 0.0056 | −0.7442 ± 0.0158 | 2.47 |
| `linspace(−0.5, 0.5, 4)` (`CHAOTIC_GRU_X0`) | 0.1184 ± 0.0024 | 0.0001 ± 0.0010 | −0.2537 ± 0.0090 | −0.7450 ± 0.0093 | 2.47 |

Checks: a step of 0.005 (t_total = 3000) gives λ1 = 0.1177 ± 0.0094; an independent
adaptive integrator (`diffrax.Dopri8`, `PIDController(rtol=1e-9, atol=1e-11)`) gives
0.1121 ± 0.0068; float32 gives 0.1246 ± 0.0070. The attractor lies in
`h ∈ [−0.27, 0.29] × [−0.86, 0.48] × [−0.60, −0.14] × [−0.43, 0.82]`. It coexists with a
stable equilibrium near `(0.991, 1.000, −0.737, 1.000)` (a start at `(0.9, −0.9, 0.1, 0)`
goes there: exponents −0.25, −0.99, −1.00, −1.85), so start near the origin.

Provenance: `GRU.random(jax.random.split(jax.random.key(1500), 1024)[167], 4, scale=10.0,
bias_scale=0.5)` under jax 0.10.2 (JAX's PRNG streams may change between versions, hence
the explicit weights below). The search: `chaos_map` (k = 1, t_transient = 200,
t_total = 400, dt0 = 0.05) over 8,192 random 4-unit GRUs (1,024 each at scales 4, 6, 10,
16 and bias scales 0, 0.5) flagged 35 as chaotic (λ1 − 3·error > 0); the 8 with the
largest λ1 were re-run with the full spectrum from two starts at t_total = 3000: this one
and one at scale 4 (λ1 ≈ 0.032 and 0.037) were chaotic from both, one (scale 16) from one
start only (λ1 = 0.27 and 0.06), the rest had λ1 ≈ 0. Among 4,096 random 3-unit GRUs
(scales 2, 4, 6, 10; bias scales 0, 1) the 5 flagged had λ1 < 0.001 (not chaos at that
horizon's resolution).

!!! example "The search, for one (scale, bias scale) cell"

    ```python
    keys = jax.random.split(jax.random.key(1500), 1024)
    grus = jax.vmap(lambda k: GRU.random(k, 4, scale=10.0, bias_scale=0.5))(keys)
    cmap = chaos_map(gru_vector_field, 0.3 * jax.random.normal(jax.random.key(1), (4,)),
                     {"gru": grus, "u": jnp.zeros((1024, 0))}, t_transient=200.0,
                     t_total=400.0, dt_reorth=1.0, dt0=0.05, chunk_size=512)
    jnp.nonzero(cmap.chaotic)  # index 167 among them; then confirm with
    # lyapunov_spectrum(gru, x0, t_transient=500.0, t_total=3000.0, ...) from two starts
    ```
"""

import jax.numpy as jnp

from ..models.gru import GRU

_WEIGHTS = dict(
    Uz=[
        [1.7311156006347743, -3.085143254383966, -7.0453281869966675, -2.4854963763272617],
        [-3.9576037628265444, 4.9863862774994985, -0.4341611590525413, -11.501916152708686],
        [-16.42951882298807, -1.1575316844516295, -3.70910949555777, 3.0591066678059424],
        [2.576886280644628, -5.738560930016757, 2.425807442101306, 0.1145413644903028],
    ],
    Ur=[
        [6.058907833741519, 6.653417138653332, -3.0266755071937315, 4.654924749322977],
        [2.041075325438296, -1.558043247555922, 7.546696551946754, 2.419669785521965],
        [-3.21043066405386, 3.9027322066704793, -7.226435235891097, 8.236493716064201],
        [-2.1790778821244268, -1.47110152208773, -9.845675448209727, -7.342127291816424],
    ],
    Uh=[
        [2.741484626736052, -5.911258522318689, -1.7650347925450551, -4.54593166773295],
        [3.312511304161809, 0.48881945317175424, -4.62023750382606, 1.0966488302928854],
        [-2.7017413465609206, 1.1959389570086247, -2.4591451285008086, 2.886275383736029],
        [15.045623250131078, 1.143366474775367, -4.896050192040857, 0.962787385679549],
    ],
    bz=[-0.4226653478836068, -0.3396505094935642, 0.9249686683406407, 0.010749155447109856],
    br=[-0.7303797427248772, 0.9643070641985279, -0.02876235100791785, -0.28090583500983785],
    bh=[-0.3483458793021726, -1.1169607503222232, -0.31507276047140764, -0.6023971238242916],
)

#: a start in the chaotic attractor's basin (the second row of the table above)
CHAOTIC_GRU_X0 = (-0.5, -1.0 / 6.0, 1.0 / 6.0, 0.5)


def chaotic_gru(dtype=None) -> GRU:
    """The chaotic 4-unit GRU described in this module's docstring (reset "before", no
    inputs; `λ1 ≈ 0.118`, Kaplan–Yorke dimension ≈ 2.47).

    **Arguments:**

    - `dtype`: the weights' floating dtype (default JAX's default float).

    **Returns:** a `gru_bif.GRU`.
    """
    return GRU(**{k: jnp.asarray(v, dtype) for k, v in _WEIGHTS.items()}, dtype=dtype)
