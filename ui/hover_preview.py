"""The page script of the hover preview (a Python module so the wheel ships it with `ui`).

While the pointer moves over the 2-D Playground contour, it draws the path from the nearest of the
figure's precomputed grid starts (`layout.meta.preview`, made by
`optcore.figures.trajectory.hover_preview`) into the figure's "preview" trace, with the Plotly
instance Streamlit's chart loaded. Everything happens in the page: nothing goes to the server until
a click on the chart commits the start (Streamlit's selection event). Mounted by `ui.charts.hover_preview`
as an `st.components.v2` component, which runs in the app page (not an iframe).
"""

JS = r"""
// Hover preview of the start (2-D Playground contour): while the pointer moves over the chart, draw
// the path from the nearest of the figure's precomputed grid starts (layout.meta.preview, made by
// optcore.figures.trajectory.hover_preview) into its "preview" trace. Everything happens in the page:
// no message goes to the server until a click on the chart commits the start (Streamlit's selection).
// Runs in the app page (st.components.v2) and uses the Plotly instance Streamlit's chart loaded.
export default function (component) {
  const chart = component.data && component.data.chart;
  if (!chart) return;
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

  function animating(gd) {
    const t = gd._transitionData;
    return Boolean(gd._transitioning || (t && t._animationRaf));
  }

  function draw(gd, k) {
    const P = window.Plotly;
    const p = gd.layout && gd.layout.meta && gd.layout.meta.preview;
    if (!P || !p) return;
    if (gd.__previewFor === p && gd.__previewK === k) return;
    const trace = gd.data.findIndex((t) => t.name === p.trace);
    if (trace < 0) return;
    gd.__previewFor = p;
    gd.__previewK = k;
    let xs = [], ys = [];
    if (k >= 0) {
      const d = decode(p);
      const a = d.offsets[k], b = d.offsets[k + 1];
      xs = new Array(b - a); ys = new Array(b - a);
      for (let m = 0; m < b - a; m++) {
        const qx = d.u[2 * (a + m)], qy = d.u[2 * (a + m) + 1];
        const gap = qx === p.gap;   // the path left the box around the window here: a break in the line
        xs[m] = gap ? null : p.lo[0] + qx * p.q[0];
        ys[m] = gap ? null : p.lo[1] + qy * p.q[1];
      }
    }
    // Plotly.animate with redraw: false replots only the scatter traces it names (restyle redrew
    // every trace: ~4x slower); every other scatter trace is named with an empty update, as the
    // figure's frames do, or plotly.js leaves it without its drawing node and clicks stop working.
    const traces = [], data = [];
    gd.data.forEach((t, i) => {
      if ((t.type || "scatter") !== "scatter") return;
      traces.push(i);
      data.push(i === trace ? { type: "scatter", x: xs, y: ys } : { type: "scatter" });
    });
    P.animate(gd, { data, traces }, { mode: "immediate", frame: { duration: 0, redraw: false },
                                      transition: { duration: 0 } });
  }

  function nearest(p, x, y) {
    const clamp = (v) => Math.min(Math.max(v, 0), p.n - 1);
    const i = clamp(Math.round((x - p.gx[0]) / p.gx[1]));
    const j = clamp(Math.round((y - p.gy[0]) / p.gy[1]));
    return j * p.n + i;
  }

  function bind(gd) {
    if (gd.__previewBound) return;
    gd.__previewBound = true;
    let clearing = null;
    gd.on("plotly_hover", (ev) => {
      clearTimeout(clearing);
      const p = gd.layout && gd.layout.meta && gd.layout.meta.preview;
      const pt = ev && ev.points && ev.points[0];
      if (!p || !pt || animating(gd) || typeof pt.x !== "number" || typeof pt.y !== "number") return;
      draw(gd, nearest(p, pt.x, pt.y));   // plotly.js already sends hover events at most every 50 ms
    });
    // moving from one grid point to the next unhovers first: clear only if no hover follows
    gd.on("plotly_unhover", () => {
      clearTimeout(clearing);
      clearing = setTimeout(() => { if (!animating(gd)) draw(gd, -1); }, 200);
    });
  }

  let stopped = false;
  function attach() {
    if (stopped) return;
    const gd = document.querySelector(".st-key-" + chart + " .js-plotly-plot");
    if (gd && typeof gd.on === "function") bind(gd);
  }
  attach();
  const timer = setInterval(attach, 250);   // Streamlit may mount a new chart element
  return () => { stopped = true; clearInterval(timer); };
}
"""
