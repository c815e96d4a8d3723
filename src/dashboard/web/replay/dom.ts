/** Finds an element the page's HTML (src/dashboard/replay/replay-page.ts) must have. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the replay page has no #${id}`);
  return element;
}

/** A new element with text (never HTML: trace contents are data, not markup). */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text = "",
  className = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== "") node.textContent = text;
  if (className !== "") node.className = className;
  return node;
}
