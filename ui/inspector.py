"""The step inspector: a slider over k and everything about step k of a run (x_k, f, ‖∇f‖, the
step, and what the method used there: step size, Hessian, BFGS estimate, Adam moments, trials)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from ui import state
from ui.numbers import format_number, format_vector


def _matrix_df(M: np.ndarray, names: Sequence[str]):
    import pandas as pd
    return pd.DataFrame(np.asarray(M, dtype=float), index=list(names), columns=list(names))


def step_inspector(traj, key: str, runs: dict | None = None) -> int:
    """Slider over k and everything about step k: x_k, f, ‖∇f‖, the step and what the method used.
    With several `runs` on the view, a picker chooses the one to follow. Returns k (the slice view
    of d > 2 follows it)."""
    if runs and len(runs) > 1:
        labels = list(runs)
        if st.session_state.get(f"{key}.run") not in labels:
            st.session_state[f"{key}.run"] = labels[0]
        traj = runs[st.selectbox("follow run", labels, key=f"{key}.run")]
    names = list(traj.variables)
    k_max = int(traj.iterations)
    if k_max == 0:
        st.caption("The run took no steps (the start already satisfies the tolerance, or it diverged at once).")
        k = 0
    else:
        if st.session_state.get(key, 0) > k_max:
            st.session_state[key] = k_max
        k = st.slider("inspect step k", 0, k_max, key=key, help="drag to look at any iteration")
    x, f, g = traj.points[k], float(traj.values[k]), traj.grads[k]
    values = np.asarray(traj.values, dtype=float)
    f_scale = float(np.abs(values[np.isfinite(values)]).max()) if np.isfinite(values).any() else 1.0
    # x_k in a line of its own: a metric cuts a vector off ("(-0.057646, -...")
    st.markdown(f"**x_{k}** = {format_vector(x)}")
    c = st.columns(3)
    c[0].metric(f"f(x_{k})", format_number(f, f_scale))
    c[1].metric("‖∇f‖", f"{float(np.linalg.norm(g)):.3e}")
    if k < k_max:
        step = traj.points[k + 1] - x
        c[2].metric(f"step to x_{k + 1} (length)", f"{float(np.linalg.norm(step)):.3e}",
                    help=f"x_{k + 1} − x_{k} = {format_vector(step)}")
    else:
        c[2].metric("step", "— last point —")
    # two lines, not "a · b": a middle dot between two vectors reads as their dot product
    st.caption(f"∇f(x_{k}) = {format_vector(g)}"
               + (f"  \nstep x_{k + 1} − x_{k} = {format_vector(traj.points[k + 1] - x)}" if k < k_max else ""))
    if k < k_max:
        _extras(traj, k, names)
    return k


def _extras(traj, k: int, names: list[str]) -> None:
    extras = traj.extras or {}
    shown = []
    if "lr" in extras and len(extras["lr"]) > k:
        shown.append(f"step size used α = {float(np.ravel(extras['lr'][k])[0]):.4g}")
    if "damping" in extras and len(extras["damping"]) > k:
        shown.append(f"damping λ = {float(np.ravel(extras['damping'][k])[0]):.4g}")
    if "cg_beta" in extras and len(extras["cg_beta"]) > k:
        shown.append(f"conjugate-gradient β = {float(np.ravel(extras['cg_beta'][k])[0]):.4g}")
    if shown:
        st.markdown(" · ".join(shown))
    cols = st.columns(2)
    i = 0
    if "hess_eigenvalues" in extras and len(extras["hess_eigenvalues"]) > k:
        lam = np.ravel(extras["hess_eigenvalues"][k])
        with cols[i % 2]:
            st.markdown("**Hessian at x_k**")
            try:
                st.dataframe(_matrix_df(state.current_objective().hess(traj.points[k]), names))
            except Exception:
                pass
            kind = "positive definite" if (lam > 0).all() else ("indefinite (saddle)" if (lam < 0).any() and (lam > 0).any()
                                                                 else "not positive definite")
            st.caption(f"eigenvalues {format_vector(lam)}: {kind}")
        i += 1
    if "hess_diagonal" in extras and len(extras["hess_diagonal"]) > k:
        with cols[i % 2]:
            st.markdown(f"**diag H used**: {format_vector(extras['hess_diagonal'][k])}")
        i += 1
    if "bfgs_inverse" in extras and len(extras["bfgs_inverse"]) > k:
        with cols[i % 2]:
            st.markdown("**BFGS inverse-Hessian estimate B_k**")
            st.dataframe(_matrix_df(extras["bfgs_inverse"][k], names))
        i += 1
    if "adam_m" in extras and len(extras["adam_m"]) > k:
        with cols[i % 2]:
            st.markdown("**Adam moments**")
            st.caption(f"first moment m = {format_vector(extras['adam_m'][k])}")
            if "adam_v" in extras:
                st.caption(f"second moment v = {format_vector(extras['adam_v'][k])}")
        i += 1
    trials = extras.get("line_search_trials")
    if trials is not None and len(trials) > k and len(trials[k]):
        with cols[i % 2]:
            st.markdown("**Line-search trials** (α, f(x_k + α d))")
            rows = trials[k]   # a (trials, 2) array; lists of pairs in results pickled by older versions
            rows = rows[0] if len(rows) and isinstance(rows[0], list) else rows
            st.dataframe({"α": [float(a) for a, _ in rows], "f": [float(v) for _, v in rows]}, hide_index=True)
