"""Chaotic continuous-time GRUs found with `chaos_map` (issue #17's search).

`chaotic_gru(3)` and `chaotic_gru(4)` return a 3-unit and a 4-unit GRU (reset "before", the
paper's convention, no inputs) whose flows `dh/dt = (1 − z) ⊙ (ĥ − h)` have chaotic
attractors; `CHAOTIC_GRU_X0[d]` is a start in the attractor's basin.

**The 3-unit GRU** (3 is the least dimension for chaos in an autonomous flow). Measured
(float64, `lyapunov_spectrum`, t_transient = 500, t_total = 10,000, dt_reorth = 1, Tsit5
with fixed steps of 0.01):

| start `x0` | λ1 | λ2 | λ3 | Kaplan–Yorke dim. |
|---|---|---|---|---|
| `0.3 · N(0, I)` (`jax.random.key(1)`) | 0.0529 ± 0.0010 | −0.0004 ± 0.0007 | −0.9240 ± 0.0018 | 2.057 |
| `linspace(−0.5, 0.5, 3)` (`CHAOTIC_GRU_X0[3]`) | 0.0545 ± 0.0025 | 0.0001 ± 0.0005 | −0.9253 ± 0.0032 | 2.059 |
| `(0.9, −0.9, 0.1)` | 0.0520 ± 0.0027 | 0.0000 ± 0.0005 | −0.9225 ± 0.0030 | 2.056 |

Checks: an independent adaptive integrator (`diffrax.Dopri8`,
`PIDController(rtol=1e-9, atol=1e-11)`, t_total = 10,000) gives λ1 = 0.0563 ± 0.0018; a
step of 0.002 (t_total = 3000) 0.0600 ± 0.0047; float32 (step 0.01, t_total = 3000)
0.0634 ± 0.0023. Its only equilibrium, near `(0.199, 0.311, −0.097)`, is a saddle-focus
(eigenvalues −2.44 and 1.79 ± 3.08i); the attractor lies in
`h ∈ [−0.27, 0.27] × [−0.05, 0.93] × [−0.76, 0.33]`. Provenance:
`GRU.random(jax.random.split(jax.random.key(2507), 1024)[1016], 3, scale=10.0,
bias_scale=1.5)`.

**The 4-unit GRU.** Measured the same way with fixed steps of 0.02:

| start `x0` | λ1 | λ2 | λ3 | λ4 | Kaplan–Yorke dim. |
|---|---|---|---|---|---|
| `0.3 · N(0, I)` (`jax.random.key(1)`) | 0.1175 ± 0.0043 | −0.0001 ± 0.0007 | −0.2483 ± 0.0056 | −0.7442 ± 0.0158 | 2.47 |
| `linspace(−0.5, 0.5, 4)` (`CHAOTIC_GRU_X0[4]`) | 0.1184 ± 0.0024 | 0.0001 ± 0.0010 | −0.2537 ± 0.0090 | −0.7450 ± 0.0093 | 2.47 |

Checks: a step of 0.005 (t_total = 3000) gives λ1 = 0.1177 ± 0.0094; `diffrax.Dopri8` with
`PIDController(rtol=1e-9, atol=1e-11)` 0.1121 ± 0.0068; float32 0.1246 ± 0.0070. The
attractor lies in `h ∈ [−0.27, 0.29] × [−0.86, 0.48] × [−0.60, −0.14] × [−0.43, 0.82]`
and coexists with a stable equilibrium near `(0.991, 1.000, −0.737, 1.000)` (the start
`(0.9, −0.9, 0.1, 0)` goes there: exponents −0.25, −0.99, −1.00, −1.85). Provenance:
`GRU.random(jax.random.split(jax.random.key(1500), 1024)[167], 4, scale=10.0,
bias_scale=0.5)`.

(Both under jax 0.10.2; JAX's PRNG streams may change between versions, hence the
explicit weights below.)

**The search.** `chaos_map` (k = 1, t_transient = 200, t_total = 400, dt0 = 0.05, fixed
steps, from `0.3 · N(0, I)`) over random GRUs, 1,024 per (scale, bias scale) cell, then
the strongest candidates re-run with the full spectrum from two starts at
t_total = 3000:

- d = 4, scales 4, 6, 10, 16 × bias scales 0, 0.5 (8,192 networks): 35 flagged
    (λ1 − 3·error > 0); of the 8 largest, this one and one at scale 4 (λ1 ≈ 0.035) were
    chaotic from both starts, one (scale 16) from one start only, the rest had λ1 ≈ 0.
- d = 3, scales 2, 4, 6, 10 × bias scales 0, 1 (512 each): 5 flagged, all with
    λ1 < 0.001 (not chaos at that resolution). Scales 6, 10, 16, 24 × bias scales 0.5,
    1.5 (8,192 networks): 78 flagged; of the 6 largest, re-run with an adaptive
    integrator (`Dopri5`, rtol 1e-8), only this one (scale 10, bias scale 1.5) was
    chaotic. The largest flagged value, λ1 = 18.9 at scale 24, was an artefact of the
    fixed step (0.05 is unstable for the weights' fast time scales; the adaptive run gives
    λ1 = −1.0): with large weights confirm with an adaptive controller.

!!! example "The search, for one (scale, bias scale) cell"

    ```python
    keys = jax.random.split(jax.random.key(2507), 1024)
    grus = jax.vmap(lambda k: GRU.random(k, 3, scale=10.0, bias_scale=1.5))(keys)
    cmap = chaos_map(gru_vector_field, 0.3 * jax.random.normal(jax.random.key(1), (3,)),
                     {"gru": grus, "u": jnp.zeros((1024, 0))}, t_transient=200.0,
                     t_total=400.0, dt_reorth=1.0, dt0=0.05, chunk_size=512)
    jnp.nonzero(cmap.chaotic)  # index 1016 among them; then confirm with
    # lyapunov_spectrum(gru, x0, t_transient=500.0, t_total=3000.0, solver=diffrax.Dopri5(),
    #                   stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-10),
    #                   max_steps=20000) from two starts
    ```
"""

import jax.numpy as jnp

from ..models.gru import GRU

_WEIGHTS = {
    3: dict(
        Uz=[
            [0.366082215149874, 5.86032506965531, -4.983738545125161],
            [-1.733237992022353, -5.253808603956453, 9.009657758063051],
            [-2.0442489562884685, -2.924204411231553, 8.346731020589328],
        ],
        Ur=[
            [8.03031906909685, -4.614655190206767, 1.3923961694096274],
            [5.778139552052579, 3.962133978711824, -2.335277590384482],
            [1.7691135112089438, 0.01342451019227759, -2.5784322677810128],
        ],
        Uh=[
            [-0.5650953330551567, 2.446635993647333, 0.7676889416794921],
            [4.157357351840678, 3.0708615538733155, -8.40343480672546],
            [3.9405203229367967, 2.9572067676274587, 2.357618370168118],
        ],
        bz=[-2.3851306147964553, 2.0616908868191666, 0.6043638560271918],
        br=[0.9983210678752474, -0.901597932964052, 1.5094900039831676],
        bh=[-0.293525233273883, -1.8269874632368155, -1.2494830712560085],
    ),
    4: dict(
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
    ),
}

#: a start in each chaotic attractor's basin (`linspace(−0.5, 0.5, d)`)
CHAOTIC_GRU_X0 = {
    3: (-0.5, 0.0, 0.5),
    4: (-0.5, -1.0 / 6.0, 1.0 / 6.0, 0.5),
}


def chaotic_gru(hidden_size: int = 3, *, dtype=None) -> GRU:
    """A continuous-time GRU with a chaotic attractor (this module's docstring has the
    evidence): reset "before", no inputs.

    **Arguments:**

    - `hidden_size`: 3 (`λ ≈ (0.054, 0, −0.925)`, Kaplan–Yorke dimension 2.06) or 4
        (`λ ≈ (0.118, 0, −0.25, −0.74)`, dimension 2.47).
    - `dtype`: the weights' floating dtype (default JAX's default float).

    **Returns:** a `gru_bif.GRU`; start it from `CHAOTIC_GRU_X0[hidden_size]`.

    **Raises:** `ValueError` for another `hidden_size`.
    """
    if hidden_size not in _WEIGHTS:
        raise ValueError(
            f"chaotic_gru has networks of hidden_size 3 and 4; got {hidden_size!r}."
        )
    weights = _WEIGHTS[hidden_size]
    return GRU(**{k: jnp.asarray(v, dtype) for k, v in weights.items()}, dtype=dtype)
