import type { ControlsView, ReplicaView } from "../shared/live-wire.js";
import { buildActions } from "./actions-cell.js";
import { formatBytes, formatPercent, formatUptime } from "./format.js";

interface Row {
  readonly tr: HTMLTableRowElement;
  readonly cells: HTMLTableCellElement[];
}

/**
 * The replicas table. Rows persist across updates (only their text changes) so that a focused
 * button keeps its focus; the header is redrawn only when the protocol's columns change. Every
 * state is written out ("down: connection refused", "leader"), colour only repeats it.
 */
export class ReplicaTable {
  private readonly rows = new Map<number, Row>();
  private header = "";
  /** The protocol's field labels, kept while every replica is down. */
  private labels: readonly string[] = [];

  constructor(
    private readonly table: HTMLTableElement,
    private readonly report: (text: string, ok: boolean) => void,
    /** Where its buttons post: "replicas", or "arbiter" for primary/backup's arbiter group. */
    private readonly group = "replicas",
  ) {}

  render(replicas: readonly ReplicaView[], controls: ControlsView | null): void {
    const fieldLabels = replicas.find((r) => r.up)?.fields.map((f) => f.label) ?? this.labels;
    this.labels = fieldLabels;
    const columns = [
      "replica",
      "state",
      "role",
      ...fieldLabels,
      "links",
      "cpu",
      "memory",
      "pid",
      "uptime",
      ...(controls ? ["actions"] : []),
    ];
    const key = columns.join("|");
    if (key !== this.header) {
      this.header = key;
      const tr = document.createElement("tr");
      for (const name of columns) {
        const th = document.createElement("th");
        th.scope = "col";
        th.textContent = name;
        tr.append(th);
      }
      this.table.tHead?.replaceChildren(tr);
      for (const row of this.rows.values()) row.tr.remove();
      this.rows.clear();
    }
    const body = this.table.tBodies[0]!;
    for (const r of replicas) {
      const row =
        this.rows.get(r.replica) ?? this.addRow(body, r.replica, columns.length, controls);
      this.fill(row, r, fieldLabels);
    }
  }

  private addRow(
    body: HTMLTableSectionElement,
    replica: number,
    width: number,
    controls: ControlsView | null,
  ): Row {
    const tr = document.createElement("tr");
    tr.dataset.replica = String(replica);
    const cells: HTMLTableCellElement[] = [];
    for (let i = 0; i < width; i++) {
      const td = document.createElement(i === 0 ? "th" : "td") as HTMLTableCellElement;
      if (i === 0) td.setAttribute("scope", "row");
      cells.push(td);
      tr.append(td);
    }
    if (controls?.replicas.includes(replica)) {
      buildActions(this.group, cells[width - 1]!, replica, controls, this.report);
    } else if (controls) {
      cells[width - 1]!.textContent = "runs elsewhere";
    }
    body.append(tr);
    const row = { tr, cells };
    this.rows.set(replica, row);
    return row;
  }

  private fill(row: Row, r: ReplicaView, labels: readonly string[]): void {
    const set = (i: number, text: string, className = "") => {
      const cell = row.cells[i]!;
      if (cell.textContent !== text) cell.textContent = text;
      if (cell.className !== className) cell.className = className;
    };
    row.tr.className = r.leads ? "leader" : "";
    row.tr.dataset.state = r.up ? "up" : "down";
    row.tr.dataset.leads = String(r.leads);
    set(0, `r${r.replica}${r.leads ? " ★ leads" : ""}`);
    const note = r.supervisor === null ? "" : ` (${r.supervisor})`;
    set(
      1,
      r.up ? `up${note}` : `DOWN: ${r.reason ?? "no answer"}${note}`,
      r.up ? "state-up" : "state-down",
    );
    set(
      2,
      r.byzantine ? `${r.role} ⚠ BYZANTINE: ${r.byzantine}` : r.role,
      r.byzantine ? "byzantine" : "",
    );
    let i = 3;
    for (const label of labels) {
      set(i++, r.fields.find((f) => f.label === label)?.value ?? "-");
    }
    const links = row.cells[i++]!;
    links.className = "links";
    const linkText = r.links.map((l) => `r${l.peer} ${l.state}`).join(", ");
    if (links.dataset.text !== linkText) {
      links.dataset.text = linkText;
      links.replaceChildren(
        ...r.links.map((l, k) => {
          const span = document.createElement("span");
          span.className = `link-${l.state.split(" ")[0]}`;
          span.textContent = `${k > 0 ? ", " : ""}r${l.peer} ${l.state}`;
          return span;
        }),
      );
      if (r.links.length === 0) links.textContent = "-";
    }
    set(i++, formatPercent(r.cpuPercent));
    set(i++, formatBytes(r.residentBytes));
    set(i++, r.pid === null ? "-" : String(r.pid));
    set(i++, formatUptime(r.uptimeSeconds));
  }
}
