/** A dashboard page being served (the same shape as the replay view's serveReplay result). */
export interface ServedPage {
  readonly url: string;
  close(): Promise<void>;
}
