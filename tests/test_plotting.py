"""Plotting runs headless (MPLBACKEND=Agg, set in conftest) and marks what it should."""

import matplotlib

matplotlib.use("Agg")

import jax.numpy as jnp
import matplotlib.pyplot as plt
import pytest

import networks as nets
from gru_bif.equilibria import EQUILIBRIUM_TYPES, find_equilibria
from gru_bif.plotting import EQUILIBRIUM_STYLE, plot_flow_1d, plot_phase_portrait


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def markers(ax) -> dict[str, int]:
    """Number of equilibrium markers per type drawn on `ax`."""
    out = {}
    for line in ax.get_lines():
        gid = line.get_gid() or ""
        if gid.startswith("equilibria:"):
            out[gid.split(":", 1)[1]] = out.get(gid.split(":", 1)[1], 0) + len(line.get_xdata())
    return out


def legend_labels(ax) -> list[str]:
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg is not None else []


def test_style_covers_every_type():
    assert set(EQUILIBRIUM_TYPES) <= set(EQUILIBRIUM_STYLE)
    # stable filled, unstable open
    assert EQUILIBRIUM_STYLE["stable node"]["markerfacecolor"] != "white"
    assert EQUILIBRIUM_STYLE["unstable node"]["markerfacecolor"] == "white"


def test_phase_portrait_four_state_machine(tmp_path):
    ax = plot_phase_portrait(nets.net2(), trajectories=2, title="four-state machine")
    assert markers(ax) == {"stable node": 4, "saddle": 4, "unstable node": 1}
    labels = legend_labels(ax)
    assert {"stable node", "saddle", "unstable node", "trajectory"} <= set(labels)
    assert sum(lab.startswith("nullcline") for lab in labels) == 2
    assert len(labels) == 6
    assert ax.get_title() == "four-state machine"
    assert ax.get_xlim() == (-1.5, 1.5)
    # 2 trajectories (and their start points) were drawn
    traj = [l for l in ax.get_lines() if not l.get_gid() and len(l.get_xdata()) > 100]
    assert len(traj) == 2
    path = tmp_path / "four_state.png"
    ax.figure.savefig(path, dpi=60)
    assert path.stat().st_size > 10_000


def test_phase_portrait_pseudo_line_speed(tmp_path):
    gru = nets.net6()
    eq = find_equilibria(gru)
    fig, axs = plt.subplots(1, 2, figsize=(10, 4))
    plot_phase_portrait(gru, ax=axs[0], equilibria=eq, speed_colour=True)
    ax = plot_phase_portrait(
        gru, ax=axs[1], equilibria=eq, xlim=(-0.2, 0.2), speed_colour=True, arrows="quiver",
        nullclines=False, legend=False,
    )
    assert markers(axs[0]) == {"non-hyperbolic": 1}
    assert markers(ax) == {"non-hyperbolic": 1}
    assert ax.get_legend() is None
    # the speed background: filled contours with levels -9 ... 0
    cs = [c for c in axs[0].collections if hasattr(c, "levels")]
    assert cs and list(cs[0].levels) == list(range(-9, 1))
    fig.savefig(tmp_path / "pseudo_line.png", dpi=60)


def test_phase_portrait_options():
    gru = nets.net3()
    ax = plot_phase_portrait(gru, equilibria=False, nullclines=False, arrows=None)
    assert markers(ax) == {}
    assert ax.get_legend() is None
    ax = plot_phase_portrait(gru, trajectories=jnp.array([[0.05, 0.0], [1.2, 1.2]]), arrows="quiver")
    assert markers(ax) == {"unstable focus": 1}
    with pytest.raises(ValueError, match="2-D system"):
        plot_phase_portrait(nets.net1(0.0))
    with pytest.raises(ValueError, match="arrows"):
        plot_phase_portrait(gru, arrows="curly")
    with pytest.raises(ValueError, match="equilibria"):
        plot_phase_portrait(gru, equilibria=[1, 2])


def test_flow_1d_bistable(tmp_path):
    ax = plot_flow_1d(nets.net1(0.0), title="b = 0")
    assert markers(ax) == {"stable node": 2, "unstable node": 1}
    arrows = [l for l in ax.get_lines() if l.get_gid() == "flow-arrows"]
    xs = sorted(x for l in arrows for x in l.get_xdata())
    mk = {x: l.get_marker() for l in arrows for x in l.get_xdata()}
    # four intervals: → (-0.86) ← (0) → (0.86) ←
    assert len(xs) == 4
    assert [mk[x] for x in xs] == [">", "<", ">", "<"]
    assert set(legend_labels(ax)) >= {"stable", "unstable"}
    ax.figure.savefig(tmp_path / "flow_b0.png", dpi=60)


def test_flow_1d_half_stable_at_fold():
    ax = plot_flow_1d(nets.net1(nets.FOLD_B))
    assert markers(ax) == {"stable node": 1, "half-stable": 1}
    half = [l for l in ax.get_lines() if l.get_gid() == "equilibria:half-stable"][0]
    # the ghost side: it attracts from the left (flow → on both sides)
    assert half.get_fillstyle() == "left"
    assert float(half.get_xdata()[0]) == pytest.approx(-nets.FOLD_H, abs=1e-3)
    with pytest.raises(ValueError, match="1-D system"):
        plot_flow_1d(nets.net2())
