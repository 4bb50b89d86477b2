"""Plots and reports (matplotlib is imported only here, and only when a plot is drawn)."""
