package chart

// Stylesheet styles the charts for light and dark themes: the page serves
// it with its own CSS (no inline styles: the Content-Security-Policy
// forbids them). Colours are custom properties, so a theme overrides
// them; the series palette is Okabe and Ito's, told apart with colour
// blindness, and every figure is also written out as text.
const Stylesheet = `.cd-chart{--cd-fg:#1b1f24;--cd-muted:#57606a;--cd-grid:#d0d7de;--cd-bg:#ffffff;--cd-tile:#f6f8fa;
--cd-s0:#0072b2;--cd-s1:#e69f00;--cd-s2:#009e73;--cd-s3:#cc79a7;--cd-s4:#56b4e9;--cd-s5:#d55e00;--cd-s6:#8c7a00;--cd-s7:#6e7781;
--cd-low:#56b4e9;--cd-medium:#e6b400;--cd-high:#e07000;--cd-critical:#b2182b;
--cd-h1:#dbe9f6;--cd-h2:#9ecae1;--cd-h3:#4292c6;--cd-h4:#08519c;
width:100%;height:auto;font-family:system-ui,"DejaVu Sans",sans-serif;font-size:11px;color:var(--cd-fg)}
@media (prefers-color-scheme:dark){.cd-chart{--cd-fg:#e6edf3;--cd-muted:#9da7b3;--cd-grid:#30363d;--cd-bg:#0d1117;--cd-tile:#161b22;
--cd-s0:#4ea8de;--cd-s1:#f2b233;--cd-s2:#2ec4a0;--cd-s3:#e09ac6;--cd-s4:#8fd3ff;--cd-s5:#ff8a4c;--cd-s6:#d9c84a;--cd-s7:#9da7b3;
--cd-h1:#1c2e40;--cd-h2:#1f4e79;--cd-h3:#2f7fc1;--cd-h4:#7cc0ff}}
[data-theme=dark] .cd-chart{--cd-fg:#e6edf3;--cd-muted:#9da7b3;--cd-grid:#30363d;--cd-bg:#0d1117;--cd-tile:#161b22;
--cd-h1:#1c2e40;--cd-h2:#1f4e79;--cd-h3:#2f7fc1;--cd-h4:#7cc0ff}
.cd-chart text{fill:var(--cd-fg)}
.cd-chart .cd-tick,.cd-chart .cd-tile-label,.cd-chart .cd-tile-note,.cd-chart .cd-axis-label{fill:var(--cd-muted)}
.cd-chart .cd-grid{stroke:var(--cd-grid);stroke-width:1}
.cd-chart .cd-value{font-weight:600}
.cd-chart .cd-empty{fill:var(--cd-muted);font-style:italic}
.cd-s0{fill:var(--cd-s0);stroke:var(--cd-s0)}.cd-s1{fill:var(--cd-s1);stroke:var(--cd-s1)}.cd-s2{fill:var(--cd-s2);stroke:var(--cd-s2)}
.cd-s3{fill:var(--cd-s3);stroke:var(--cd-s3)}.cd-s4{fill:var(--cd-s4);stroke:var(--cd-s4)}.cd-s5{fill:var(--cd-s5);stroke:var(--cd-s5)}
.cd-s6{fill:var(--cd-s6);stroke:var(--cd-s6)}.cd-s7{fill:var(--cd-s7);stroke:var(--cd-s7)}
.cd-sev-low{fill:var(--cd-low);stroke:var(--cd-low)}.cd-sev-medium{fill:var(--cd-medium);stroke:var(--cd-medium)}
.cd-sev-high{fill:var(--cd-high);stroke:var(--cd-high)}.cd-sev-critical{fill:var(--cd-critical);stroke:var(--cd-critical)}
.cd-neutral{fill:var(--cd-s7)}
.cd-chart .cd-bar{stroke:var(--cd-bg);stroke-width:0.5}
.cd-chart .cd-line{fill:none;stroke-width:2}
.cd-chart .cd-point{stroke:var(--cd-bg);stroke-width:1}
.cd-heat-0{fill:var(--cd-tile)}.cd-heat-1{fill:var(--cd-h1)}.cd-heat-2{fill:var(--cd-h2)}.cd-heat-3{fill:var(--cd-h3)}.cd-heat-4{fill:var(--cd-h4)}
.cd-chart .cd-heat-text-3,.cd-chart .cd-heat-text-4{fill:#ffffff}
.cd-chart .cd-cell{stroke:var(--cd-bg)}
.cd-chart .cd-tile-bg{fill:var(--cd-tile)}
.cd-chart .cd-tile-value{font-size:26px;font-weight:700}
.cd-chart a:focus rect,.cd-chart a:hover rect{stroke:var(--cd-fg);stroke-width:2}
@media print{.cd-chart{--cd-bg:#ffffff;--cd-fg:#000000}}
`
