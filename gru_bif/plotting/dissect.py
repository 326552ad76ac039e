"""Pictures of a dissected network (matplotlib, imported lazily): the FixedPointFinder
picture (trajectories and fixed points in the top principal components) and the
diagram of each memory in an input channel. Draws only: the numbers come from
`gru_bif.dissect`."""

import numpy as np


_KIND_STYLE = {
    "stable": dict(marker="o", color="black", s=60, zorder=5),
    "saddle": dict(marker="x", color="tab:red", s=50, zorder=5),
    "other": dict(marker="D", color="tab:purple", s=40, zorder=5),
    "slow": dict(marker="o", facecolors="none", edgecolors="tab:orange", s=70, zorder=5),
}


def pca_basis(states, k: int = 3):
    """`(mean (d,), components (k, d), explained variance ratio (k,))` of states
    `(..., d)` (by SVD)."""
    X = np.asarray(states).reshape(-1, np.shape(states)[-1])
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    var = s**2 / np.sum(s**2)
    return mean, vt[:k], var[:k]


def plot_fixed_points_pca(fps, trajectories, *, ax=None, dims: int = 3,
                          max_traj: int = 20, mode_scale: float = 0.0):
    """Trajectories `(n, T, d)` and the points of `fps` projected on the top `dims`
    (2 or 3) principal components of the trajectories: stable points black dots,
    saddles red crosses, slow points orange rings; with `mode_scale > 0`, each saddle's
    unstable eigenvectors drawn as segments of that length. Returns the axes."""
    import matplotlib.pyplot as plt

    if dims not in (2, 3):
        raise ValueError(f"dims={dims}; use 2 or 3.")
    tr = np.asarray(trajectories)
    mean, comp, var = pca_basis(tr, dims)
    proj = lambda a: (np.asarray(a) - mean) @ comp.T  # noqa: E731
    if ax is None:
        fig = plt.figure(figsize=(6, 5))
        ax = fig.add_subplot(111, projection="3d" if dims == 3 else None)
    for t in tr[:max_traj]:
        p = proj(t)
        ax.plot(*p.T[:dims], color="tab:blue", alpha=0.35, lw=0.8)
    c = int(fps.count)
    x = np.asarray(fps.x)[:c]
    stable = np.asarray(fps.stable)[:c]
    saddle = np.asarray(fps.saddles)[:c]
    slow = np.asarray(fps.slow)[:c]
    other = ~(stable | saddle | slow)
    for name, sel in (("stable", stable), ("saddle", saddle), ("other", other),
                      ("slow", slow)):
        if sel.any():
            p = proj(x[sel])
            ax.scatter(*p.T[:dims], label=f"{name} ({int(sel.sum())})", **_KIND_STYLE[name])
    if mode_scale > 0:
        lam = np.asarray(fps.eigenvalues)[:c]
        vec = np.asarray(fps.eigenvectors)[:c]
        for i in np.nonzero(saddle)[0]:
            for j in np.nonzero(lam[i].real > 0)[0]:
                v = np.real(vec[i][:, j])
                seg = proj(np.stack([x[i] - mode_scale * v, x[i] + mode_scale * v]))
                ax.plot(*seg.T[:dims], color="tab:red", lw=1.5)
    ax.set_xlabel(f"PC1 ({100 * var[0]:.0f}%)")
    ax.set_ylabel(f"PC2 ({100 * var[1]:.0f}%)")
    if dims == 3:
        ax.set_zlabel(f"PC3 ({100 * var[2]:.0f}%)")
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_input_diagram(bifs, readout, *, output: int = 0, ax=None):
    """The branches of `bifs` (each memory continued in its input channel) seen through
    the readout `(W_out, b_out)` (or a `TaskNetwork`): output `output` against the
    input level; stable solid, unstable dashed; folds red dots, Hopf points blue
    diamonds, labelled with the memory's sign pattern. Returns the axes."""
    import matplotlib.pyplot as plt

    if hasattr(readout, "W_out"):
        W, b = np.asarray(readout.W_out), np.asarray(readout.b_out)
    else:
        W, b = (np.asarray(a) for a in readout)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for r, pair in enumerate(bifs.branches):
        col = colours[r % len(colours)]
        for br in pair:
            n = int(br.num_points)
            x, p = np.asarray(br.x)[:n], np.asarray(br.p)[:n]
            st = np.asarray(br.stable)[:n].astype(bool)
            y = x @ W[output] + b[output]
            for sel, ls in ((st, "-"), (~st, "--")):
                yy = np.where(sel, y, np.nan)
                ax.plot(p, yy, ls, color=col, lw=1.2)
        ax.plot([], [], "-", color=col, label=bifs.labels[r])
    P, K, X = np.asarray(bifs.p), np.asarray(bifs.kind), np.asarray(bifs.x)
    for r in range(P.shape[0]):
        for s in range(2):
            if K[r, s] == 0:
                continue
            y = X[r, s] @ W[output] + b[output]
            fold = K[r, s] == 1
            ax.plot(P[r, s], y, "o" if fold else "D", color="tab:red" if fold else "tab:blue",
                    ms=6, zorder=5)
    ax.set_xlabel(f"u[{bifs.channel}]")
    ax.set_ylabel(f"output {output}")
    ax.legend(fontsize=7, ncol=2)
    return ax
