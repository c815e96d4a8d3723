import type { ControlsView } from "../shared/live-wire.js";
import { postAction } from "./api.js";

const labels: Readonly<Record<string, string>> = {
  kill: "kill -9",
  restart: "restart",
  pause: "pause",
  resume: "resume",
  cut: "cut links",
  heal: "heal links",
};

/**
 * The fault buttons of one replica: real <button>s (keyboard operable), each named for its
 * replica for screen readers. Built once per row so that focus survives every update.
 */
export function buildActions(
  group: string,
  cell: HTMLElement,
  replica: number,
  controls: ControlsView,
  report: (text: string, ok: boolean) => void,
): void {
  cell.className = "actions";
  const bar = document.createElement("div");
  bar.className = "actions-bar";
  cell.append(bar);
  const run = async (action: string, behaviour?: string) => {
    report(`r${replica}: ${action}…`, true);
    try {
      const result = await postAction(group, replica, action, behaviour);
      report(result.text, result.ok);
    } catch (error) {
      report(`r${replica}: ${action} failed: ${String(error)}`, false);
    }
  };
  for (const action of controls.actions) {
    const label = labels[action];
    if (label === undefined) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.dataset.action = action;
    button.setAttribute("aria-label", `${label} r${replica}`);
    button.addEventListener("click", () => void run(action));
    bar.append(button);
  }
  if (controls.actions.includes("byzantine") && controls.behaviours.length > 0) {
    const select = document.createElement("select");
    select.setAttribute("aria-label", `Byzantine behaviour for r${replica}`);
    for (const behaviour of controls.behaviours) {
      const option = document.createElement("option");
      option.value = behaviour;
      option.textContent = behaviour;
      select.append(option);
    }
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "restart as Byzantine";
    button.dataset.action = "byzantine";
    button.setAttribute("aria-label", `restart r${replica} as Byzantine`);
    button.addEventListener("click", () => void run("byzantine", select.value));
    const group = document.createElement("span");
    group.className = "byzantine-group";
    group.append(select, button);
    bar.append(group);
  }
}
