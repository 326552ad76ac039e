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
