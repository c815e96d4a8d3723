// STAND-IN (dash-live branch): the replay view is built on the dash-replay branch, whose
// serve-replay.ts replaces this file at merge. Same signature; it only says it is missing.

export interface ServedPage {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveReplay(opts: {
  file: string;
  host: string;
  port: number;
  token?: string;
}): Promise<ServedPage> {
  throw new Error(`cannot replay ${opts.file}: the replay view is not part of this build yet`);
}
