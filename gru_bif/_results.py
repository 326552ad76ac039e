"""Result codes shared by every solver in gru_bif (extends optimistix's)."""

import optimistix as optx


class RESULTS(optx.RESULTS):  # pyright: ignore[reportGeneralTypeIssues]
    """Outcome of a gru_bif computation. `RESULTS.successful` is the empty message;
    every other code carries a message that says what went wrong and what to change."""

    successful = ""
    reached_parameter_bound = ""
    closed_branch = ""
    max_steps_reached_continuation = (
        "The continuation used all `max_steps` steps before leaving [p_min, p_max]. "
        "This is not an error: increase `max_steps` (and/or `ds_max`) to go further."
    )
    corrector_failed = (
        "The Newton corrector failed even at the smallest step `ds_min`. The branch may "
        "end here (a singular point), or the tolerance is too tight for the dtype: try a "
        "smaller `ds_min`, a looser `tol`, or float64 (`jax.config.update('jax_enable_x64', True)`)."
    )
    start_not_converged = (
        "The start point is not near an equilibrium: Newton from (x0, p0) did not converge. "
        "Give a better `x0` (e.g. from `gru_bif.find_equilibria`) or a `p0` where x0 is a "
        "fixed point."
    )
    singular_start = (
        "The start point is singular (a fold or branch point at p0), so the branch "
        "direction is undefined. Move p0 a little away from the bifurcation."
    )
    nonfinite_vector_field = (
        "The vector field returned NaN or inf during continuation. Check the vector field "
        "and the parameter range [p_min, p_max]."
    )
    location_failed = (
        "Locating a detected special point did not converge; the point is reported at the "
        "continuation step where it was detected (less accurate). Try a smaller `ds_max`."
    )
    equilibrium_not_converged = (
        "Newton did not converge to an equilibrium from this start. Try other starts, more "
        "`max_steps`, or check the vector field for NaN."
    )
    special_capacity_exceeded = (
        "More special points were detected than `max_special_points` can hold; the extra "
        "ones were dropped. Increase `max_special_points`."
    )
    curve_start_not_special = (
        "The start of a fold/Hopf curve is not a fold/Hopf point: the vector field or the "
        "smallest singular value of F_x (fold) or of the bialternate product 2F_x⊙I "
        "(Hopf) is not small there. Start from a located special point of a one-parameter "
        "branch (`branch.special` with kind 'fold' or 'hopf', or 'bt' for a Hopf curve)."
    )
    homoclinic_not_converged = (
        "Newton on the homoclinic boundary-value problem did not converge. Start closer to "
        "the homoclinic orbit (a cycle of longer period, a smaller distance from the "
        "Bogdanov-Takens point), increase `ntst`, or increase `max_iter`."
    )
    homoclinic_no_saddle = (
        "The equilibrium of the homoclinic solution is not a hyperbolic saddle with the "
        "expected number of unstable eigenvalues (it may have passed a fold or a SNIC). "
        "Start from an orbit near a saddle, or stay away from the fold of equilibria."
    )
    homoclinic_truncation_too_short = (
        "The ends of the computed homoclinic orbit are far from the saddle compared with "
        "its size: the truncation time `T` is too short. Increase `T` (and `ntst`)."
    )
    homoclinic_collapsed = (
        "The homoclinic orbit collapsed onto the saddle (a trivial solution). Start from "
        "a guess with a real excursion (a long-period cycle, or a smaller `eps` from a "
        "Bogdanov-Takens point)."
    )
    cycle_start_not_converged = (
        "Newton on the periodic-orbit equations did not converge from the start guess. "
        "Start nearer the cycle: from a Hopf point use a smaller `dp` (or `amplitude`) "
        "on the side where cycles exist; from a simulation use a longer `t_transient`; "
        "or use more mesh intervals (`ntst`)."
    )
    cycle_collapsed = (
        "The cycles shrank to a point along the branch (amplitude below `collapse_tol`): "
        "the branch returned to a Hopf point, where it meets the family of constant "
        "'cycles' (equilibria with any period). From `index` on the branch retraces the "
        "same cycles (phase-shifted): use the rows before it, continue in the other "
        "direction, or end the parameter range before the Hopf point."
    )
    cycle_mesh_too_coarse = (
        "The collocation error estimate (`CollocationProblem.collocation_error`) exceeds "
        "the requested accuracy somewhere on the branch: increase `ntst` (e.g. double it) "
        "or move the mesh with `gru_bif.periodic.adapt_mesh` and continue again."
    )
    lyapunov_integration_failed = (
        "The integration of the state and its tangent frame failed in at least one "
        "block (an adaptive controller ran out of `max_steps`, or the solver's step was "
        "rejected). Give more `max_steps`, a smaller `dt0`, or a stiff solver "
        "(`solver=diffrax.Kvaerno5()` with a `diffrax.PIDController`)."
    )
    lyapunov_nonfinite = (
        "The trajectory or the tangent frame became NaN or inf. The trajectory may "
        "escape to infinity (check the parameters and `x0`), the fixed step `dt0` may be "
        "too large for the fastest time scale, or `dt_reorth` too long for the spread of "
        "the exponents: keep (λ1 − λk)·dt_reorth below ~8 in float32, ~18 in float64."
    )
    # appended (stored result codes keep their numbers)
    heteroclinic_not_converged = (
        "Newton on the heteroclinic boundary-value problem did not converge. Start closer "
        "to the connection (a trajectory along the saddle's unstable eigenvector that "
        "reaches the target equilibrium), increase `ntst`, or increase `max_iter`."
    )
    heteroclinic_wrong_equilibria = (
        "The end points of the heteroclinic solution are not hyperbolic equilibria with "
        "the expected numbers of unstable eigenvalues, or both ends converged to the same "
        "equilibrium. Give the source saddle and the target equilibrium more accurately "
        "(e.g. from gru_bif.find_equilibria), or stay away from folds of equilibria."
    )
    heteroclinic_truncation_too_short = (
        "The ends of the computed heteroclinic orbit are far from their equilibria "
        "compared with the distance between them: the truncation time `T` is too short. "
        "Increase `T` (and `ntst`)."
    )
