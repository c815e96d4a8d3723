import { basename } from "node:path";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The replay page's HTML: the controls, the canvas and the panels, filled in by the browser
 * modules under /assets (src/dashboard/web/replay/main.ts). With a token, the module URL carries
 * it, and the page passes it on when it fetches the trace.
 */
export function replayPageHtml(file: string, token: string | undefined): string {
  const query = token === undefined ? "" : `?token=${encodeURIComponent(token)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lockstep replay: ${escapeHtml(basename(file))}</title>
<style>${pageCss}</style>
</head>
<body>
<header>
  <h1>lockstep replay <span id="run-title"></span></h1>
  <p id="run-verdict" role="status">loading ${escapeHtml(basename(file))}…</p>
</header>
<section id="verdict" aria-label="verdict" hidden></section>
<section id="controls" aria-label="player controls">
  <button id="to-start" type="button" title="back to the start (Home)">|◀ start</button>
  <button id="step-back" type="button" title="previous event (←)">◀ step</button>
  <button id="play" type="button" title="play or pause (space)">▶ play</button>
  <button id="step-forward" type="button" title="next event (→)">step ▶</button>
  <label for="seek">seek</label>
  <input id="seek" type="range" min="0" max="0" value="0" step="1">
  <label for="speed">speed</label>
  <select id="speed">
    <option value="2">2 ms/s</option>
    <option value="10" selected>10 ms/s</option>
    <option value="50">50 ms/s</option>
    <option value="250">250 ms/s</option>
    <option value="1000">1 s/s</option>
  </select>
  <button id="zoom-in" type="button" title="zoom in (+)">+ zoom in</button>
  <button id="zoom-out" type="button" title="zoom out (−)">− zoom out</button>
  <output id="clock" for="seek" aria-live="off">t = 0 ms</output>
</section>
<fieldset id="filters"><legend>message kinds shown</legend></fieldset>
<div id="diagram-box">
  <canvas id="diagram" tabindex="0" role="img" aria-label="space-time diagram"></canvas>
</div>
<div id="panels">
  <section aria-labelledby="states-title">
    <h2 id="states-title">replicas at the selected instant</h2>
    <table id="states"></table>
  </section>
  <section aria-labelledby="events-title">
    <h2 id="events-title">events up to the selected instant</h2>
    <ol id="events"></ol>
  </section>
</div>
<script type="module" src="/assets/main.js${query}"></script>
</body>
</html>
`;
}

const pageCss = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1a1a1a; background: #fafafa; }
body { margin: 0 16px 24px; }
h1 { font-size: 18px; margin: 12px 0 4px; }
h2 { font-size: 15px; margin: 8px 0; }
#run-verdict { margin: 0 0 8px; font-weight: 600; }
#run-verdict.failed::before { content: "✗ "; }
#run-verdict.passed::before { content: "✓ "; }
#verdict { border: 2px solid #8a1c1c; background: #fff4f4; padding: 8px 12px; margin-bottom: 8px; }
#verdict.passed { border-color: #1c6b2c; background: #f2fbf4; }
#verdict ol { margin: 4px 0; padding-left: 20px; max-height: 160px; overflow: auto; }
#verdict pre { max-height: 200px; overflow: auto; font-size: 12px; }
#verdict button { font: inherit; text-align: left; background: none; border: 1px solid transparent; padding: 1px 4px; cursor: pointer; }
#verdict button.stuck { font-weight: 700; border-color: #8a1c1c; background: #ffe0e0; }
#controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 6px 0; }
#controls button, #controls select { font: inherit; padding: 3px 8px; }
#seek { flex: 1 1 240px; }
#clock { font-variant-numeric: tabular-nums; min-width: 16em; }
#filters { display: flex; flex-wrap: wrap; gap: 4px 12px; border: 1px solid #ccc; margin: 0 0 6px; padding: 4px 8px; }
#filters label { white-space: nowrap; }
.swatch { display: inline-block; width: 14px; height: 4px; vertical-align: middle; margin: 0 4px; }
#diagram-box { border: 1px solid #bbb; background: #fff; }
#diagram { display: block; width: 100%; }
#panels { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
#states { border-collapse: collapse; font-variant-numeric: tabular-nums; }
#states th, #states td { border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: left; }
#events { font-family: ui-monospace, monospace; font-size: 12px; max-height: 300px; overflow: auto; padding-left: 0; list-style: none; }
#events li.cx { background: #ffe0e0; font-weight: 700; }
#events li.now { outline: 1px solid #555; }
:focus-visible { outline: 3px solid #1f5fd6; outline-offset: 2px; }
`;
