// Requests back to the dashboard server, carrying the page's ?token= when it has one.

const token = new URLSearchParams(location.search).get("token");

/** A path of this server, relative to the page, with the token. */
export function apiUrl(path: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params);
  if (token !== null) query.set("token", token);
  const text = query.toString();
  return text === "" ? path : `${path}?${text}`;
}

/**
 * POSTs a fault button's action (`group`: "replicas", or "arbiter" for primary/backup's arbiter
 * group); resolves to the server's one-line answer.
 */
export async function postAction(
  group: string,
  replica: number,
  action: string,
  behaviour?: string,
): Promise<{ readonly ok: boolean; readonly text: string }> {
  const params: Record<string, string> = behaviour === undefined ? {} : { behaviour };
  const response = await fetch(apiUrl(`api/${group}/${replica}/${action}`, params), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  try {
    const body = (await response.json()) as { ok?: unknown; text?: unknown };
    return { ok: body.ok === true, text: String(body.text ?? response.statusText) };
  } catch {
    return { ok: false, text: `HTTP ${response.status}` };
  }
}
