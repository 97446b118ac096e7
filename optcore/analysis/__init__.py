"""Analysis of an objective and of runs on it, one module per topic; every name is re-exported here.

- ``grids``: n × n grids over a window (Plotly convention: ``XY[i, j]`` is ``(xs[j], ys[i])``)
- ``curvature_maps``: Hessian eigenvalues, determinant and convex/saddle/concave class on a grid
- ``critical_points``: stationary points in a window, named by curvature
- ``models``: Newton's quadratic model, its landing point, the step fields −∇f and −H⁻¹∇f, Newton at the starts
- ``rates``: GD's rates on a quadratic, where to read H for them; contraction and order measured on a run's errors
- ``sweeps``: outcomes over a learning-rate ladder and an lr × β grid (one batched run each)
- ``basins``: which stationary point each start of a grid ends at
- ``preconditioning``: the same landscape rotated and rescaled, iterations per method

Everything is NumPy/SymPy on top of the ``Objective`` interface and ``run_batch``; nothing draws.
"""
from __future__ import annotations

from .basins import DIVERGED, NOT_CONVERGED, BasinMap, align_basin_labels, basin_map, coordinates_text
from .critical_points import CriticalPoint, classify_stationary, critical_points
from .curvature_maps import (CURVATURE_CLASS_NAMES, curvature_class, curvature_class_grid, hessian_det_grid,
                             hessian_eigenvalues_grid, hessian_where_defined, min_eigenvalue_grid,
                             symmetric_eigenvalues)
from .grids import MAX_GRID, Progress, Window, grid
from .models import (gradient_field, newton_at_starts, newton_direction_label, newton_landing_point, newton_models,
                     newton_step_field, newton_step_note, quadratic_model_kind, taylor_model, taylor_model_grid)
from .preconditioning import (PreconditioningStudy, iterations_to_tol, preconditioning_study, rotate_and_scale,
                              rotation_scale_matrix, to_rotated_coordinates, tuned_gd_learning_rate)
from .rates import (condition_number, contraction_factor, convergence_order, convergence_orders, errors_to_point,
                    first_step_within_tol, measured_contraction, momentum_stability_edge, optimal_learning_rate,
                    optimal_rate, order_target, rate_target, reference_hessian, stability_edge, step_ratios)
from .sweeps import ParamHeatmap, Sweep, learning_rate_sweep, param_heatmap

__all__ = [
    "DIVERGED", "NOT_CONVERGED", "BasinMap", "align_basin_labels", "basin_map", "coordinates_text",
    "CriticalPoint", "classify_stationary", "critical_points",
    "CURVATURE_CLASS_NAMES", "curvature_class", "curvature_class_grid", "hessian_det_grid",
    "hessian_eigenvalues_grid", "hessian_where_defined", "min_eigenvalue_grid", "symmetric_eigenvalues",
    "MAX_GRID", "Progress", "Window", "grid",
    "gradient_field", "newton_at_starts", "newton_direction_label", "newton_landing_point", "newton_models",
    "newton_step_field", "newton_step_note", "quadratic_model_kind", "taylor_model", "taylor_model_grid",
    "PreconditioningStudy", "iterations_to_tol", "preconditioning_study", "rotate_and_scale",
    "rotation_scale_matrix", "to_rotated_coordinates", "tuned_gd_learning_rate",
    "condition_number", "contraction_factor", "convergence_order", "convergence_orders", "errors_to_point",
    "first_step_within_tol", "measured_contraction", "momentum_stability_edge", "optimal_learning_rate",
    "optimal_rate", "order_target", "rate_target", "reference_hessian", "stability_edge", "step_ratios",
    "ParamHeatmap", "Sweep", "learning_rate_sweep", "param_heatmap",
]
