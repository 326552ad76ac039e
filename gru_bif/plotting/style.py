"""One look for every figure of the package: colours, markers and line styles.

Every picture (phase portraits, 1-D flows, bifurcation diagrams, parameter planes, cycle
branches, homoclinic orbits) takes its style from here, so that the same object is drawn
the same way everywhere:

- equilibria: stable filled circles (node black, focus blue), unstable open circles (node
  black, focus red), a saddle an orange cross, a non-hyperbolic point a purple diamond, a
  half-stable point (1-D) a half-filled circle, filled on the side it attracts from;
- branches (of equilibria, cycles, curves): stable solid, unstable dashed (`BRANCH_STYLE`,
  `stability_linestyle`);
- special points: one colour and marker per kind, labelled with the AUTO / MatCont
  abbreviations (LP, H, BP, CP, BT, GH, HC, LPC, PD, NS, ZH, HH: `SPECIAL_STYLE`,
  `special_style`).

A leaf: it imports matplotlib nowhere and, of gru_bif, only the `SpecialKind` enumeration
that keys `SPECIAL_STYLE`.
"""

from typing import Any

from ..branch import SpecialKind

# --------------------------------------------------------------------------- equilibria

EQUILIBRIUM_STYLE: dict[str, dict[str, Any]] = {
    "stable node": dict(
        marker="o", markersize=8, color="black", markerfacecolor="black",
        markeredgecolor="black", linestyle="none", zorder=6,
    ),
    "stable focus": dict(
        marker="o", markersize=8, color="tab:blue", markerfacecolor="tab:blue",
        markeredgecolor="tab:blue", linestyle="none", zorder=6,
    ),
    "unstable node": dict(
        marker="o", markersize=8, color="black", markerfacecolor="white",
        markeredgecolor="black", markeredgewidth=1.5, linestyle="none", zorder=6,
    ),
    "unstable focus": dict(
        marker="o", markersize=8, color="tab:red", markerfacecolor="white",
        markeredgecolor="tab:red", markeredgewidth=1.5, linestyle="none", zorder=6,
    ),
    "saddle": dict(
        marker="X", markersize=9, color="tab:orange", markerfacecolor="tab:orange",
        markeredgecolor="black", markeredgewidth=0.5, linestyle="none", zorder=6,
    ),
    "non-hyperbolic": dict(
        marker="D", markersize=7, color="tab:purple", markerfacecolor="tab:purple",
        markeredgecolor="black", markeredgewidth=0.5, linestyle="none", zorder=6,
    ),
    "half-stable": dict(
        marker="o", markersize=8, color="black", markerfacecolor="black",
        markerfacecoloralt="white", markeredgecolor="black", fillstyle="left",
        linestyle="none", zorder=6,
    ),
}
"""Marker keyword arguments (for `Axes.plot`) per equilibrium type; keys are
`gru_bif.EQUILIBRIUM_TYPES` plus `"half-stable"` (1-D)."""

LABELS_1D = {"stable node": "stable", "unstable node": "unstable", "half-stable": "half-stable"}
"""Legend labels of the fixed points of a 1-D flow."""

# --------------------------------------------------------------------------- phase portraits

NULLCLINE_COLOURS: tuple[str, ...] = ("tab:green", "tab:cyan")
"""Colours of the nullclines `f_0 = 0` and `f_1 = 0`."""

NULLCLINE_STYLE: dict[str, Any] = dict(linewidths=1.8)
TRAJECTORY_STYLE: dict[str, Any] = dict(color="0.15", linewidth=1.0, alpha=0.8, zorder=4)
TRAJECTORY_START_STYLE: dict[str, Any] = dict(
    marker=".", markersize=4, color="0.15", linestyle="none", zorder=4
)
STREAM_STYLE: dict[str, Any] = dict(color="0.55", linewidth=0.6, density=1.2, arrowsize=0.8)
QUIVER_STYLE: dict[str, Any] = dict(color="0.45", pivot="mid", width=0.003)
SPEED_CMAP: str = "viridis"
SPEED_LEVELS: tuple[float, ...] = tuple(float(v) for v in range(-9, 1))
"""log10-speed contour levels −9, …, 0 (the paper's pseudo-line-attractor figure)."""

FLOW_1D_STYLE: dict[str, Any] = dict(color="tab:blue", linewidth=1.8)
FLOW_1D_ARROW_STYLE: dict[str, Any] = dict(markersize=9, color="0.3", linestyle="none", zorder=5)
ZERO_LINE_STYLE: dict[str, Any] = dict(color="0.4", linewidth=0.8)

# --------------------------------------------------------------------------- branches

BRANCH_STYLE: dict[str, dict[str, Any]] = {
    "stable": dict(linestyle="-", linewidth=1.8, color="black"),
    "unstable": dict(linestyle="--", linewidth=1.4, color="black"),
}
"""Line styles for bifurcation-diagram branches: stable solid, unstable dashed."""

BRANCH_COLOR = "black"
"""The default colour of a branch of equilibria in a bifurcation diagram."""


def stability_linestyle(stable: bool) -> tuple[str, float]:
    """`(format, linewidth)` of a stretch of branch: stable solid, unstable dashed (the
    convention of every diagram of the package, after BifurcationKit and AUTO)."""
    return ("-", 1.6) if stable else ("--", 1.2)


# --------------------------------------------------------------------------- special points

SPECIAL_STYLE = {
    SpecialKind.FOLD: dict(marker="o", color="tab:red", abbrev="LP", name="fold (LP)"),
    SpecialKind.HOPF: dict(marker="D", color="tab:blue", abbrev="H", name="Hopf (H)"),
    SpecialKind.BRANCH_POINT: dict(
        marker="s", color="tab:green", abbrev="BP", name="branch point (BP)"
    ),
    SpecialKind.CUSP: dict(marker="^", color="tab:purple", abbrev="CP", name="cusp (CP)"),
    SpecialKind.BT: dict(marker="*", color="tab:orange", abbrev="BT", name="Bogdanov–Takens (BT)"),
    SpecialKind.BAUTIN: dict(marker="P", color="tab:brown", abbrev="GH", name="Bautin (GH)"),
    SpecialKind.HOMOCLINIC: dict(marker="X", color="tab:pink", abbrev="HC", name="homoclinic (HC)"),
    SpecialKind.FOLD_CYCLE: dict(marker="v", color="tab:olive", abbrev="LPC", name="fold of cycles (LPC)"),
    SpecialKind.PERIOD_DOUBLING: dict(marker="h", color="tab:cyan", abbrev="PD", name="period doubling (PD)"),
    SpecialKind.NEIMARK_SACKER: dict(marker="p", color="tab:gray", abbrev="NS", name="Neimark–Sacker (NS)"),
}
"""One colour and marker per special-point kind; labels as in AUTO / MatCont."""

CODIM2_STYLE = {
    SpecialKind.ZERO_HOPF: dict(marker="d", color="tab:cyan", abbrev="ZH", name="zero-Hopf (ZH)"),
    SpecialKind.DOUBLE_HOPF: dict(marker="H", color="tab:gray", abbrev="HH", name="double Hopf (HH)"),
}
"""Codimension-2 points drawn only in parameter planes (they share colours with
`SPECIAL_STYLE`'s codimension-1 kinds, so they are kept apart)."""


def special_style(kind, label: str | None = None) -> dict:
    """The style of a special point of `kind` (a `SpecialKind`): `SPECIAL_STYLE`'s entry,
    or a black circle labelled `label` (default: the kind's label) for a kind without one."""
    style = SPECIAL_STYLE.get(kind)
    if style is not None:
        return style
    label = label if label is not None else SpecialKind(int(kind)).label
    return dict(marker="o", color="k", abbrev=label, name=label)


# --------------------------------------------------------------------------- curves, cycle ends

CURVE_STYLE = {
    "fold": dict(color="tab:red", label="fold (LP)"),
    "hopf": dict(color="tab:blue", label="Hopf (H)"),
    "homoclinic": dict(color="tab:pink", label="homoclinic (HC)"),
    "fold_cycle": dict(color="tab:olive", label="fold of cycles (LPC)"),
}
"""One line colour per curve kind in a parameter plane (solid lines: the bifurcation;
dotted: the continuation of a Hopf curve as a neutral-saddle curve, which is not one)."""

NEUTRAL_SADDLE_STYLE: dict[str, Any] = dict(color="tab:blue", ls=":")
"""A Hopf curve where it continues as a neutral-saddle curve."""

CYCLE_COLOR = "tab:purple"
"""The default colour of a branch of cycles."""

CYCLE_END_STYLE = {
    "hopf": dict(marker="D", color="tab:blue", abbrev="H", name="Hopf end (H)"),
    "homoclinic": dict(marker="*", color="tab:red", abbrev="HC",
                       name="homoclinic end (HC)"),
    "snic": dict(marker="P", color="tab:orange", abbrev="SNIC", name="SNIC end"),
}
"""Markers of the located end of a branch of cycles, by `CycleBranchEnd.kind`."""

HOMOCLINIC_COLOR = "tab:pink"
"""The colour of homoclinic orbits and curves."""

EIGENDIRECTION_COLORS = {"unstable": "tab:red", "stable": "tab:blue"}
"""A saddle's unstable and stable eigen-directions (homoclinic pictures)."""
