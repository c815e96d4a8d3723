import { createServer } from "node:net";

/** Whether something may listen on `port` of 127.0.0.1 now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A base port whose whole block is free for `lockstep init --base-port`: the replica ports
 * base..base+4 and the metrics ports base+100..base+104. Chosen below Linux's ephemeral range
 * (32768+), where other tests' outgoing sockets land, so a port checked free here is not taken
 * by a client socket a moment later.
 */
export async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let free = true;
    for (const port of [0, 1, 2, 3, 4, 100, 101, 102, 103, 104].map((k) => base + k)) {
      if (!(await portIsFree(port))) {
        free = false;
        break;
      }
    }
    if (free) return base;
  }
  throw new Error("no free block of ports between 20000 and 32100");
}
