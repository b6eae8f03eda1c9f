"""Regression: result against result with paired significance, and the CI gate."""
