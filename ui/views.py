"""Pieces the run pages share: run status, the step inspector, known minima, summary rows."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

import optcore
from ui import frame


@st.cache_data(max_entries=64, show_spinner=False)
def _computed_minima(text: str, variables: tuple | None, window: tuple) -> tuple[tuple[float, ...], ...]:
    from optcore import analysis
    try:
        obj = optcore.parse(text, variables)
        pts = analysis.critical_points(obj, list(window), seeds=400 if obj.dim <= 2 else 200,
                                       iterations=40, max_points=20)
    except Exception:
        return ()
    return tuple(tuple(float(v) for v in c.point) for c in pts if c.kind == "min")


def known_minima() -> np.ndarray:
    """Minima to mark and measure against: the preset's (exact), else the local minima found in the
    window by the engine's critical-point search. Shape (m, d), possibly m = 0."""
    obj = frame.current_objective()
    preset = frame.current_preset()
    if preset is not None and preset.minima:
        return np.array(preset.minima, dtype=float).reshape(-1, obj.dim)
    good = st.session_state.get(frame.K_GOOD) or {}
    variables = good.get("variables")
    found = _computed_minima(obj.text, tuple(variables) if variables else None, frame.current_window())
    return np.array(found, dtype=float).reshape(-1, obj.dim)


NOT_A_MINIMUM = ("saddle point", "maximum", "flat point")


def best_run(rows: Sequence[dict]) -> int | None:
    """Index of the row to mark best: among the runs that stopped at a minimum (`"stopped at"`),
    the lowest final f (then the fewest iterations to tol); when none did, the lowest finite final
    f of all. A run that converged to a saddle is not better than one still walking downhill."""
    if not rows:
        return None

    def key(r: int):
        f = rows[r].get("final f")
        finite = f is not None and np.isfinite(f)
        return (not finite, f if finite else 0.0, rows[r].get("iterations to tol") or 10**9)

    at_min = [r for r in range(len(rows)) if rows[r].get("stopped at") == "minimum"]
    pool = at_min or list(range(len(rows)))
    return min(pool, key=key)


def show_status(traj, label: str | None = None) -> None:
    """The run's status and its sentence: success (converged to a minimum), warning (stopped at max
    steps, or converged to a saddle point, a maximum or a flat point) or error (diverged)."""
    text = f"**{label}:** {traj.message}" if label else traj.message
    if not np.isfinite(np.asarray(traj.values, dtype=float)[:1]).all():
        text += (" — f is not defined there (a log or square root of a negative number, a division by "
                 "zero): move the start into the coloured part of the plot, e.g. by clicking it.")
    stopped_at = getattr(traj, "stopped_at", "")
    if traj.status == "converged" and stopped_at in NOT_A_MINIMUM:
        # ∇f = 0 is all a method checks: "converged" at a saddle must not look like a success.
        st.warning(text, icon=":material/warning:")
    elif traj.status == "converged":
        st.success(text, icon=":material/check_circle:")
    elif traj.status == "diverged":
        st.error(text, icon=":material/error:")
    else:
        st.warning(text, icon=":material/timer:")


def starts_at_a_stationary_point(traj) -> bool:
    """The run stopped at step 0 because ∇f vanishes at the start (not because f is undefined there)."""
    return (traj.status == "converged" and int(traj.iterations) == 0
            and bool(np.isfinite(np.asarray(traj.values, dtype=float)[:1]).all()))


def show_stationary_start(traj, dim: int) -> bool:
    """An info line when the path is a single point: the start already has ∇f = 0 (a new formula
    typed while the start sits at its minimum, a click on the minimum). Returns whether it showed."""
    if not starts_at_a_stationary_point(traj):
        return False
    where = "the curve" if dim == 1 else "the contour" if dim == 2 else "the slice"
    st.info(f"The start is already a stationary point (∇f = 0): click {where} or change the start to watch "
            "the method move.", icon=":material/info:")
    return True


def _fmt_vec(v: Sequence[float]) -> str:
    return "(" + ", ".join(f"{float(x):.5g}" for x in np.ravel(v)) + ")"


def _matrix_df(M: np.ndarray, names: Sequence[str]):
    import pandas as pd
    return pd.DataFrame(np.asarray(M, dtype=float), index=list(names), columns=list(names))


def step_inspector(traj, key: str) -> int:
    """Slider over k and everything about step k: x_k, f, ‖∇f‖, the step and what the method used.
    Returns k (the slice view of d > 2 follows it)."""
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
    c = st.columns(4)
    c[0].metric(f"x_{k}", _fmt_vec(x))
    c[1].metric(f"f(x_{k})", f"{f:.6g}")
    c[2].metric("‖∇f‖", f"{float(np.linalg.norm(g)):.3e}")
    if k < k_max:
        step = traj.points[k + 1] - x
        c[3].metric(f"step to x_{k + 1} (length)", f"{float(np.linalg.norm(step)):.3e}",
                    help=f"x_{k + 1} − x_{k} = {_fmt_vec(step)}")
    else:
        c[3].metric("step", "— last point —")
    st.caption(f"∇f(x_{k}) = {_fmt_vec(g)}" + (f" · step = {_fmt_vec(traj.points[k + 1] - x)}" if k < k_max else ""))
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
                st.dataframe(_matrix_df(frame.current_objective().hess(traj.points[k]), names))
            except Exception:
                pass
            kind = "positive definite" if (lam > 0).all() else ("indefinite (saddle)" if (lam < 0).any() and (lam > 0).any()
                                                                 else "not positive definite")
            st.caption(f"eigenvalues {_fmt_vec(lam)}: {kind}")
        i += 1
    if "hess_diagonal" in extras and len(extras["hess_diagonal"]) > k:
        with cols[i % 2]:
            st.markdown(f"**diag H used**: {_fmt_vec(extras['hess_diagonal'][k])}")
        i += 1
    if "bfgs_inverse" in extras and len(extras["bfgs_inverse"]) > k:
        with cols[i % 2]:
            st.markdown("**BFGS inverse-Hessian estimate B_k**")
            st.dataframe(_matrix_df(extras["bfgs_inverse"][k], names))
        i += 1
    if "adam_m" in extras and len(extras["adam_m"]) > k:
        with cols[i % 2]:
            st.markdown("**Adam moments**")
            st.caption(f"first moment m = {_fmt_vec(extras['adam_m'][k])}")
            if "adam_v" in extras:
                st.caption(f"second moment v = {_fmt_vec(extras['adam_v'][k])}")
        i += 1
    trials = extras.get("line_search_trials")
    if trials is not None and len(trials) > k and trials[k]:
        with cols[i % 2]:
            st.markdown("**Line-search trials** (α, f(x_k + α d))")
            rows = trials[k]
            rows = rows[0] if rows and isinstance(rows[0], list) else rows
            st.dataframe({"α": [float(a) for a, _ in rows], "f": [float(v) for _, v in rows]}, hide_index=True)


def iterations_to_tol(traj, tol: float) -> int | None:
    """First k with ‖∇f(x_k)‖ ≤ tol, or None."""
    hits = np.flatnonzero(traj.grad_norms <= tol)
    return int(hits[0]) if hits.size else None
