import type { Random } from "../core/prng.js";

/** How badly the simulated network behaves right now. */
export interface NetworkQuality {
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** Fraction of messages that take a long-tail delay (10–150 ms). */
  readonly tailRate: number;
}

export const calmNetwork: NetworkQuality = { dropRate: 0, duplicateRate: 0, tailRate: 0.002 };

export type PartitionShape =
  | "isolate-one"
  | "halves"
  | "one-way"
  | "bridge"
  | "ring"
  | "isolate-leader"
  | "isolate-clients";

export const partitionShapes: readonly PartitionShape[] = [
  "isolate-one",
  "halves",
  "one-way",
  "bridge",
  "ring",
  "isolate-leader",
  "isolate-clients",
];

/**
 * Links between endpoints (replicas 0..n-1, then clients) and their quality. A blocked link
 * drops everything sent over it in that direction; partitions are sets of blocked links.
 */
export class SimNetwork {
  private readonly blocked: Uint8Array;
  quality: NetworkQuality = calmNetwork;
  partition: string = "none";
  /** Replicas cut off from the protocol's external service (the primary/backup arbiter). */
  readonly externalCut = new Set<number>();

  constructor(
    readonly replicas: number,
    readonly endpoints: number,
  ) {
    this.blocked = new Uint8Array(endpoints * endpoints);
  }

  canSend(from: number, to: number): boolean {
    return this.blocked[from * this.endpoints + to] === 0;
  }

  /** One-way delay in microseconds: a short body with an exponential spread and a rare long tail. */
  delay(random: Random): number {
    let us = 150 + Math.floor(-Math.log(1 - random.next()) * 600);
    if (random.chance(this.quality.tailRate)) us += 10_000 + random.int(140_000);
    return us;
  }

  heal(): void {
    this.blocked.fill(0);
    this.externalCut.clear();
    this.partition = "none";
  }

  private block(from: number, to: number): void {
    if (from !== to) this.blocked[from * this.endpoints + to] = 1;
  }

  private cut(a: readonly number[], b: readonly number[], bothWays = true): void {
    for (const x of a) {
      for (const y of b) {
        this.block(x, y);
        if (bothWays) this.block(y, x);
      }
    }
  }

  /**
   * Keeps replica groups apart (Twins): a link between two replicas stays up only if some
   * group holds both. Clients keep their links.
   */
  isolateGroups(groups: readonly (readonly number[])[], label: string): void {
    this.heal();
    for (let a = 0; a < this.replicas; a++) {
      for (let b = 0; b < this.replicas; b++) {
        if (!groups.some((g) => g.includes(a) && g.includes(b))) this.block(a, b);
      }
    }
    this.partition = label;
  }

  /** Applies a partition shape among the replicas (clients keep their links unless the shape is about them). */
  apply(shape: PartitionShape, random: Random, leader: number | undefined): void {
    this.heal();
    const n = this.replicas;
    const ids = shuffle(
      Array.from({ length: n }, (_, i) => i),
      random,
    );
    switch (shape) {
      case "isolate-leader":
      case "isolate-one": {
        const victim = shape === "isolate-leader" && leader !== undefined ? leader : ids[0]!;
        this.cut(
          [victim],
          ids.filter((i) => i !== victim),
        );
        this.partition = `${shape}(${victim})`;
        break;
      }
      case "halves": {
        const size = Math.max(1, Math.floor(n / 2));
        const a = ids.slice(0, size);
        const b = ids.slice(size);
        this.cut(a, b);
        this.partition = `halves(${a.join(",")}|${b.join(",")})`;
        break;
      }
      case "one-way": {
        // a hears b, b does not hear a.
        const size = Math.max(1, Math.floor(n / 2));
        const a = ids.slice(0, size);
        const b = ids.slice(size);
        this.cut(a, b, false);
        this.partition = `one-way(${a.join(",")}-/->${b.join(",")})`;
        break;
      }
      case "bridge": {
        if (n < 3) {
          this.apply("isolate-one", random, leader);
          return;
        }
        const bridge = ids[0]!;
        const rest = ids.slice(1);
        const half = Math.floor(rest.length / 2);
        const a = rest.slice(0, half);
        const b = rest.slice(half);
        this.cut(a, b);
        this.partition = `bridge(${a.join(",")}|${bridge}|${b.join(",")})`;
        break;
      }
      case "ring": {
        // Each replica hears only its ring neighbours within reach k: a majority each, no shared majority.
        // Seeing itself and k neighbours on each side gives 2k+1 ≥ a majority.
        const k = Math.max(1, Math.ceil(Math.floor(n / 2) / 2));
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const d = Math.min(
              Math.abs(ids.indexOf(i) - ids.indexOf(j)),
              n - Math.abs(ids.indexOf(i) - ids.indexOf(j)),
            );
            if (d > k) this.block(i, j);
          }
        }
        this.partition = `ring(${ids.join(",")};k=${k})`;
        break;
      }
      case "isolate-clients": {
        const victim = ids[0]!;
        const clients = Array.from({ length: this.endpoints - n }, (_, i) => n + i).filter(() =>
          random.chance(0.6),
        );
        this.cut([victim], clients);
        this.partition = `isolate-clients(${victim};${clients.length} clients)`;
        break;
      }
    }
  }
}

function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
