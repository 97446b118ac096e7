"""The page script of the hover preview (a Python module so the wheel ships it with `ui`).

While the pointer moves over the 2-D Playground contour, it draws the path from the nearest of the
precomputed grid starts (the payload `optcore.figures.trajectory.hover_preview` makes, which this
component receives beside the chart) as SVG over the plot, at the axes of the chart Streamlit's
Plotly drew. Everything happens in the page: nothing goes to the server until
a click on the chart commits the start (Streamlit's selection event). Mounted by `ui.charts.hover_preview`
as an `st.components.v2` component, which runs in the app page (not an iframe).
"""

JS = r"""
// Hover preview of the start (2-D Playground contour): while the pointer moves over the chart, draw
// the path from the nearest of the precomputed grid starts (this component's data.preview, made by
// optcore.figures.trajectory.hover_preview) as SVG in the plot's layer. Everything happens in the page:
// no message goes to the server until a click on the chart commits the start (Streamlit's selection).
// Runs in the app page (st.components.v2), on the chart element Streamlit's Plotly drew.
export default function (component) {
  const chart = component.data && component.data.chart, preview = component.data && component.data.preview;
  if (!chart || !preview) return;
  // The payload of each chart, shared by every call of this function: Streamlit calls it again with
  // each new payload, and the listeners bound to a chart element by an earlier call read the newest.
  const previews = (window.__oePreviews = window.__oePreviews || {});
  previews[chart] = preview;
  const decoded = new WeakMap();

  function decode(p) {
    let d = decoded.get(p);
    if (d) return d;
    const bin = atob(p.xy);
    const u = new Uint16Array(bin.length >> 1);
    for (let i = 0; i < u.length; i++) u[i] = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
    const offsets = [0];
    for (const m of p.len) offsets.push(offsets[offsets.length - 1] + m);
    d = { u, offsets };
    decoded.set(p, d);
    return d;
  }

  const previewOf = (gd) => previews[gd.__oePreviewChart];

  function animating(gd) {
    const t = gd._transitionData;
    return Boolean(gd._transitioning || (t && t._animationRaf));
  }

  // The preview is drawn as SVG of its own in the subplot's clipped plot layer, not as a trace:
  // any Plotly call (restyle, animate) re-runs the whole figure's defaults and calc, 30-40 ms a move.
  const SVG = "http://www.w3.org/2000/svg";
  function layer(gd, style) {
    const plots = gd._fullLayout && gd._fullLayout._plots;
    const host = plots && plots.xy && plots.xy.plot && plots.xy.plot.node();
    if (!host) return null;
    let g = host.querySelector(":scope > g.oe-preview");
    if (!g) {
      g = document.createElementNS(SVG, "g");
      g.setAttribute("class", "oe-preview");
      g.style.pointerEvents = "none";
      const line = document.createElementNS(SVG, "path"), dots = document.createElementNS(SVG, "path");
      line.setAttribute("class", "line");
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", style.color);
      line.setAttribute("stroke-width", style.width);
      line.setAttribute("stroke-dasharray", style.dash.join(","));
      dots.setAttribute("class", "dots");
      dots.setAttribute("fill", style.color);
      dots.setAttribute("stroke", style.outline);
      dots.setAttribute("stroke-width", 0.5);
      g.append(line, dots);
      host.appendChild(g);   // last child of the plot layer: above the contour and the paths
    }
    return g;
  }

  function render(gd) {
    const p = previewOf(gd), fl = gd._fullLayout;
    if (!p) {   // the payload is gone (scrub mode, a long run): so is a preview drawn from it
      const old = gd.querySelector("g.oe-preview");
      if (old) old.remove();
      return;
    }
    if (!fl || !fl.xaxis || !fl.yaxis) return;
    const g = layer(gd, p.style);
    if (!g) return;
    const k = gd.__previewK;
    let line = "", dots = "";
    if (k !== undefined && k >= 0) {
      const d = decode(p);
      const a = d.offsets[k], b = d.offsets[k + 1], r = p.style.marker / 2;
      const xa = fl.xaxis, ya = fl.yaxis;
      let pen = "M";
      for (let m = a; m < b; m++) {
        const qx = d.u[2 * m], qy = d.u[2 * m + 1];
        if (qx === p.gap) { pen = "M"; continue; }   // the path left the box around the window: a break
        const px = xa.c2p(p.lo[0] + qx * p.q[0]), py = ya.c2p(p.lo[1] + qy * p.q[1]);
        line += pen + px.toFixed(1) + "," + py.toFixed(1);
        pen = "L";
        dots += "M" + (px + r).toFixed(1) + "," + py.toFixed(1) + "a" + r + "," + r + " 0 1,1 " + (-2 * r) +
                ",0a" + r + "," + r + " 0 1,1 " + 2 * r + ",0Z";
      }
    }
    g.firstChild.setAttribute("d", line);
    g.lastChild.setAttribute("d", dots);
    gd.emit("oe_preview", k);   // for the benchmark and the tests: the preview is on the page
  }

  function draw(gd, k) {
    const p = previewOf(gd);
    if (!p) return;
    if (gd.__previewFor === p && gd.__previewK === k) return;
    gd.__previewFor = p;
    gd.__previewK = k;
    render(gd);
  }

  function nearest(p, x, y) {
    const clamp = (v) => Math.min(Math.max(v, 0), p.n - 1);
    const i = clamp(Math.round((x - p.gx[0]) / p.gx[1]));
    const j = clamp(Math.round((y - p.gy[0]) / p.gy[1]));
    return j * p.n + i;
  }

  // The pointer in the axes' coordinates, or null outside the plot area.
  function pointer(gd, ev) {
    const fl = gd._fullLayout, xa = fl && fl.xaxis, ya = fl && fl.yaxis;
    if (!xa || !ya || typeof xa.p2c !== "function") return null;
    const box = gd.getBoundingClientRect();
    const px = ev.clientX - box.left - xa._offset, py = ev.clientY - box.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
    return [xa.p2c(px), ya.p2c(py)];
  }

  function bind(gd) {
    if (gd.__previewBound) return;
    gd.__previewBound = true;
    let clearing = null;
    const leave = () => {
      clearTimeout(clearing);
      clearing = setTimeout(() => draw(gd, -1), 200);   // a short grace: brushing past an edge keeps it
    };
    // The pointer itself, not plotly_hover: plotly.js sends hover events at most every 50 ms and
    // holds back the one after a pause by another 50 ms.
    gd.addEventListener("mousemove", (ev) => {
      const p = previewOf(gd);
      if (!p || animating(gd)) return;
      const at = pointer(gd, ev);
      if (!at) { if (gd.__previewK >= 0) leave(); return; }
      clearTimeout(clearing);
      draw(gd, nearest(p, at[0], at[1]));
    }, { capture: true, passive: true });
    gd.addEventListener("mouseleave", leave);
    // a new drawing of the figure (new width, new data) moves the axes: draw the preview again
    gd.on("plotly_afterplot", () => { if (gd.__previewK >= 0) render(gd); });
  }

  const chartElement = () => document.querySelector(".st-key-" + chart + " .js-plotly-plot");
  let stopped = false;
  function attach() {
    if (stopped) return;
    const gd = chartElement();
    if (gd && typeof gd.on === "function") {
      gd.__oePreviewChart = chart;
      bind(gd);
    }
  }
  attach();
  const shown = chartElement();
  // a preview on screen follows a new payload for the same chart element (a new formula mounts a new
  // element: its preview starts with the next pointer move)
  if (shown && shown.__previewK >= 0) render(shown);
  const timer = setInterval(attach, 250);   // Streamlit may mount a new chart element
  return () => {
    stopped = true;
    clearInterval(timer);
    if (previews[chart] !== preview) return;   // a newer payload has already taken over
    delete previews[chart];
    const gd = chartElement();
    if (gd) render(gd);
  };
}
"""
