/**
 * The live dashboard's page. The markup is fixed; src/dashboard/web/live/main.ts (built to
 * assets/live/main.js) fills it from the event stream. No inline script, nothing from elsewhere.
 */
export function livePage(title: string): string {
  const safe = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${safe} · lockstep dashboard</title>
<link rel="stylesheet" href="live.css">
</head>
<body>
<header>
  <h1>lockstep <span id="protocol"></span> cluster</h1>
  <p id="summary" role="status" aria-live="polite">connecting…</p>
  <p id="arbiter" hidden></p>
  <p id="connection" class="muted"></p>
</header>
<main>
  <section aria-labelledby="replicas-title">
    <h2 id="replicas-title">Replicas</h2>
    <div class="table-wrap"><table id="replicas"><thead></thead><tbody></tbody></table></div>
    <p id="controls-help" class="muted" hidden>Fault buttons act on the processes this dashboard's supervisor started; each action is logged on the timeline.</p>
    <p id="action-result" role="status" aria-live="polite"></p>
    <div id="arbiter-section" hidden>
      <h3 id="arbiter-title">Arbiter group</h3>
      <div class="table-wrap"><table id="arbiter-replicas" aria-labelledby="arbiter-title"><thead></thead><tbody></tbody></table></div>
    </div>
  </section>
  <section aria-labelledby="charts-title">
    <h2 id="charts-title">Throughput and latency</h2>
    <div class="charts">
      <figure><canvas id="ops-chart" width="560" height="180" role="img" aria-label="throughput chart"></canvas><figcaption id="ops-caption">operations per second</figcaption></figure>
      <figure><canvas id="latency-chart" width="560" height="180" role="img" aria-label="latency chart"></canvas><figcaption id="latency-caption">latency p50 / p99 (ms)</figcaption></figure>
    </div>
  </section>
  <section aria-labelledby="timeline-title">
    <h2 id="timeline-title">Timeline</h2>
    <ol id="timeline" reversed></ol>
  </section>
</main>
<script type="module" src="assets/live/main.js"></script>
</body>
</html>
`;
}
