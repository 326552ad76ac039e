"""Test functions, defining systems and normal-form coefficients of bifurcations."""
