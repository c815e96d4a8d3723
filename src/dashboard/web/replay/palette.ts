/** Message kinds get these colours in order; the kind's name is always shown next to it too. */
const colours = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#17becf",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
];

export function kindColours(kinds: readonly string[]): Map<string, string> {
  return new Map(kinds.map((kind, i) => [kind, colours[i % colours.length]!]));
}
