/** The live page's style sheet (served as /live.css; kept here so the build needs no copy step). */
export const liveStyle = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #c62828; --warn: #9a6700; --line: #8884; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; }
h1 { font-size: 1.4rem; margin: 1rem 0 0.25rem; }
h2 { font-size: 1.1rem; margin: 1.25rem 0 0.5rem; }
.muted { opacity: 0.7; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; white-space: nowrap; }
th { font-weight: 600; }
thead th { white-space: normal; vertical-align: bottom; }
td.links { white-space: normal; min-width: 7rem; }
tr.leader td:first-child { font-weight: 700; }
.state-up { color: var(--ok); }
.state-down { color: var(--bad); font-weight: 600; }
.badge { display: inline-block; border: 1px solid currentColor; border-radius: 0.6rem; padding: 0 0.4rem; margin-left: 0.25rem; font-size: 0.8rem; }
.byzantine { color: var(--bad); }
.link-live { color: var(--ok); }
.link-down, .link-silent, .link-cut { color: var(--bad); }
.link-connecting { color: var(--warn); }
td.actions { white-space: normal; min-width: 19rem; }
.actions-bar { display: flex; flex-wrap: wrap; gap: 0.25rem; }
.byzantine-group { display: inline-flex; gap: 0.25rem; white-space: nowrap; }
.actions button, .actions select { font: inherit; padding: 0.1rem 0.4rem; }
button:focus-visible, select:focus-visible { outline: 3px solid #0969da; outline-offset: 1px; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; }
canvas { border: 1px solid var(--line); max-width: 100%; }
figcaption { font-size: 0.85rem; }
#timeline { max-height: 22rem; overflow-y: auto; padding-left: 3rem; font-family: ui-monospace, monospace; font-size: 0.85rem; }
#timeline .kind { display: inline-block; min-width: 8rem; font-weight: 600; }
#action-result { min-height: 1.2rem; }
`;
