"""Pictures of Lyapunov computations (`gru_bif.chaos`): running estimates and chaos maps.

Draws only: the exponents are computed by `gru_bif.chaos.lyapunov_spectrum` and
`gru_bif.chaos.chaos_map`. matplotlib is imported when a picture is drawn.
"""

import numpy as np


def plot_lyapunov_history(spec, ax=None, *, labels=None):
    """The running estimate of every exponent against the averaging time, with the final
    value and its convergence estimate (`± error`) as a band.

    **Arguments:**

    - `spec`: one (unbatched) `gru_bif.chaos.LyapunovSpectrum`.
    - `ax`: a matplotlib `Axes` (default: a new figure's).
    - `labels`: one label per exponent (default `λ1`, `λ2`, ...).

    **Returns:** the `Axes`.
    """
    t = np.asarray(spec.times)
    hist = np.asarray(spec.history)
    if hist.ndim != 2:
        raise ValueError(
            f"plot_lyapunov_history draws one spectrum; got history of shape {hist.shape} "
            "(a batch? index it first, e.g. jax.tree_util.tree_map(lambda a: a[0], spec))."
        )
    lam, err = np.asarray(spec.exponents), np.asarray(spec.error)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 3.5))
    labels = labels or [f"λ{i + 1}" for i in range(hist.shape[1])]
    for i in range(hist.shape[1]):
        (line,) = ax.plot(t, hist[:, i], lw=1.2,
                          label=f"{labels[i]} = {lam[i]:.4f} ± {err[i]:.1e}")
        if np.isfinite(err[i]):
            ax.axhspan(lam[i] - err[i], lam[i] + err[i], color=line.get_color(), alpha=0.15)
    ax.set_xlabel("averaging time")
    ax.set_ylabel("running estimate")
    ax.legend(fontsize="small")
    return ax


def plot_chaos_map(cmap, ax=None, *, grid=None, xlabel="parameter"):
    """`λ1` against a one-dimensional grid, with its convergence estimate as error bars;
    grid points judged chaotic in red, the others in grey, failures as crosses at 0.

    **Arguments:**

    - `cmap`: a `gru_bif.chaos.ChaosMap`.
    - `ax`: a matplotlib `Axes` (default: a new figure's).
    - `grid`: the x values (default `cmap.grid`, which must then be one-dimensional).
    - `xlabel`: the x-axis label.

    **Returns:** the `Axes`.
    """
    x = np.asarray(cmap.grid if grid is None else grid)
    if x.ndim != 1:
        raise ValueError(
            "plot_chaos_map needs a one-dimensional grid: pass `grid=` (the values to "
            f"plot against) for a map over a pytree of args (got shape {x.shape})."
        )
    lam = np.asarray(cmap.largest)
    err = np.asarray(cmap.error[:, 0])
    chaotic = np.asarray(cmap.chaotic)
    ok = np.asarray(cmap.successful)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.axhline(0.0, color="k", lw=0.6)
    ax.plot(x[ok], lam[ok], color="0.6", lw=0.8, zorder=1)
    for mask, colour, label in ((ok & ~chaotic, "0.4", "not chaotic"),
                                (chaotic, "tab:red", "chaotic")):
        if mask.any():
            ax.errorbar(x[mask], lam[mask], yerr=np.nan_to_num(err[mask]), fmt="o", ms=3,
                        color=colour, label=label, zorder=2)
    if (~ok).any():
        ax.plot(x[~ok], np.zeros((~ok).sum()), "x", color="k", label="failed")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("λ1")
    ax.legend(fontsize="small")
    return ax
