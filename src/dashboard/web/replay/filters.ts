import { element } from "./dom.js";

/** One checkbox per message kind, with its colour and its name; unchecked kinds are hidden. */
export function renderFilters(
  fieldset: HTMLFieldSetElement,
  kinds: readonly string[],
  counts: ReadonlyMap<string, number>,
  colours: ReadonlyMap<string, string>,
  hidden: Set<string>,
  changed: () => void,
): void {
  for (const kind of kinds) {
    const label = element("label");
    const box = element("input");
    box.type = "checkbox";
    box.checked = true;
    box.name = kind;
    box.addEventListener("change", () => {
      if (box.checked) hidden.delete(kind);
      else hidden.add(kind);
      changed();
    });
    const swatch = element("span", "", "swatch");
    swatch.style.background = colours.get(kind) ?? "#555";
    label.append(box, swatch, `${kind} (${counts.get(kind) ?? 0})`);
    fieldset.append(label);
  }
}
