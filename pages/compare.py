"""Compare: several methods (each with its own parameters) from one or several starts."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore.figures import trajectory as figs
from ui import frame, views

DEFAULTS = ("gd", "momentum", "bfgs", "adam", "newton", "cg")
DASHES = ("solid", "dot", "dash", "dashdot", "longdash", "longdashdot")
X_AXES = {"iterations": None, "f evaluations": "f", "gradient evaluations": "grad", "Hessian evaluations": "hess"}

obj = frame.current_objective()
names = list(obj.variables)
window = frame.current_window()
minima = views.known_minima()

st.header("Compare methods")
top = st.columns([1, 1, 2])
with top[0]:
    n = frame.shared_option(st.number_input, "number of methods", "n_methods", min_value=1,
                            max_value=frame.MAX_METHODS, value=3, step=1)
with top[1]:
    steps, tol = frame.steps_and_tol()
with top[2]:
    starts = frame.extra_starts_input()
    st.caption(f"{len(starts)} start point(s): the sidebar's start, plus the extra ones.")

picked = []
per_row = 3  # six pickers side by side squeeze their menus to a few letters each
cells = [col for r in range(0, int(n), per_row) for col in st.columns(per_row)][:int(n)]
for i, col in enumerate(cells):
    with col.container(border=True):
        method, params = frame.method_picker(f"m{i}", default=DEFAULTS[i % len(DEFAULTS)], label=f"Method {i + 1}")
        picked.append((method, params))


def label_of(i: int, method: str, params: dict) -> str:
    lr = params.get("lr")
    ls = params.get("line_search", "none")
    extra = f" η={lr:g}" if lr is not None and ls == "none" else (f" ({ls})" if ls != "none" else "")
    return f"{i + 1}. {optcore.METHODS[method].label}{extra}"


labels = [label_of(i, m, p) for i, (m, p) in enumerate(picked)]
runs: dict[str, object] = {}
paths_by_method: list[list[dict]] = []
for i, (method, params) in enumerate(picked):
    panel = []
    for s, x0 in enumerate(starts):
        traj = frame.run(method, params, x0, steps, tol)
        name = labels[i] if len(starts) == 1 else f"{labels[i]} · start {s + 1}"
        runs[name] = traj
        path = figs.path_from_points(traj.points, name, figs.default_color(i), values=traj.values)
        path["dash"] = DASHES[s % len(DASHES)]
        panel.append(path)
    paths_by_method.append(panel)

fig = None
if obj.dim == 2:
    xs, ys, Z = frame.grid(window, n=200)
    tab_side, tab_overlay = st.tabs(["Side by side (shared timeline)", "Overlay on one contour"])
    with tab_side:
        xs_s, ys_s, Z_s = frame.grid(window, n=120)
        fig = figs.small_multiples_figure(xs_s, ys_s, Z_s, list(zip(labels, paths_by_method)), minima=minima,
                                          names=names)
        frame.chart(fig, key="cmp_multiples", clickable=False)
    with tab_overlay:
        overlay = figs.contour_paths_figure(xs, ys, Z, [p for panel in paths_by_method for p in panel],
                                            minima=minima, names=names)
        frame.chart(overlay, key="cmp_overlay")
        st.caption("Click anywhere on the contour to move the first start point there.")
elif obj.dim == 1:
    xs, _, fx = frame.grid(window, n=400)
    fig = figs.curve_figure(xs, fx, [p for panel in paths_by_method for p in panel], name=names[0],
                            minima=minima[:, 0] if len(minima) else (),
                            minima_values=obj.value(minima) if len(minima) else ())
    frame.chart(fig, key="cmp_curve")
else:
    st.info(f"f has {obj.dim} variables: compare the methods by their convergence plots below.")

# -- convergence -------------------------------------------------------------------------------
axis = frame.shared_option(st.segmented_control, "x-axis", "xaxis", options=list(X_AXES), default="iterations")
axis = axis or "iterations"
all_values = np.concatenate([t.values[np.isfinite(t.values)] for t in runs.values()])
f_star = float(obj.value(minima).min()) if len(minima) else float(all_values.min()) if all_values.size else 0.0
finals = np.array([t.points[-1] for t in runs.values()])
targets = minima if len(minima) else finals[[int(np.nanargmin([t.values[-1] for t in runs.values()]))]]

series_f, series_g, series_d = [], [], []
for (name, traj), color_index in zip(runs.items(), [i for i, panel in enumerate(paths_by_method) for _ in panel]):
    kind = X_AXES[axis]
    x = np.arange(traj.iterations + 1) if kind is None else np.asarray(traj.evaluations[kind])
    dist = np.min(np.linalg.norm(traj.points[:, None, :] - targets[None, :, :], axis=-1), axis=1)
    style = dict(name=name, x=x, color=figs.default_color(color_index), diverged=traj.status == "diverged",
                 dash=DASHES[list(runs).index(name) % len(starts)] if len(starts) > 1 else None)
    series_f.append(dict(style, y=traj.values - f_star))
    series_g.append(dict(style, y=traj.grad_norms))
    series_d.append(dict(style, y=dist))
c1, c2, c3 = st.columns(3)
c1.plotly_chart(figs.convergence_figure(series_f, y_title="f(x<sub>k</sub>) − f*", x_title=axis), key="cmp_conv_f")
c2.plotly_chart(figs.convergence_figure(series_g, y_title="‖∇f(x<sub>k</sub>)‖", x_title=axis), key="cmp_conv_g")
c3.plotly_chart(figs.convergence_figure(series_d, y_title="distance to minimum", x_title=axis), key="cmp_conv_d")
st.caption("f* = " + (f"{f_star:.6g} (known minimum)" if len(minima) else f"{f_star:.6g} (best value reached)"))

# -- summary -----------------------------------------------------------------------------------
rows = []
for name, traj in runs.items():
    hit = views.iterations_to_tol(traj, tol)
    ev = {k: int(np.asarray(v)[-1]) for k, v in traj.evaluations.items()}
    rows.append({"run": name, "status": traj.status, "stopped at": getattr(traj, "stopped_at", ""),
                 "iterations to tol": hit, "iterations": traj.iterations,
                 "f evals": ev.get("f", 0), "∇f evals": ev.get("grad", 0), "∇²f evals": ev.get("hess", 0),
                 "final point": "(" + ", ".join(f"{v:.5g}" for v in traj.points[-1]) + ")",
                 "final f": float(traj.values[-1])})
best = views.best_run(rows)
for r in rows:
    r["best"] = ""
if best is not None:
    rows[best]["best"] = "★ best"
st.subheader("Summary")
st.dataframe(rows, hide_index=True, column_order=["best", "run", "status", "stopped at", "iterations to tol", "iterations",
                                                  "f evals", "∇f evals", "∇²f evals", "final point", "final f"],
             column_config={"final f": st.column_config.NumberColumn(format="%.6g"),
                            "stopped at": st.column_config.TextColumn(
                                help="where a converged run stopped, by the curvature there (∇f = 0 is all a "
                                     "method checks): minimum, saddle point, maximum or flat point")}, key="cmp_summary")
for name, traj in runs.items():
    if traj.status == "diverged":
        st.warning(f"**{name}**: {traj.message}")
    elif traj.status == "converged" and getattr(traj, "stopped_at", "") in views.NOT_A_MINIMUM:
        st.warning(f"**{name}**: {traj.message}", icon=":material/warning:")

with st.expander("Export and share", expanded=False):
    frame.export_buttons(fig, runs, key="cmp_export")
    st.caption("The address bar holds the whole state: copy it to share exactly this comparison.")
