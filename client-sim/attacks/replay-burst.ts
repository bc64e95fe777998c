/**
 * A burst of replay page requests at one server, as hard as one client address can send it:
 * `count` keep-alive connections are opened first (each carries a GET /healthz), then every one
 * of them sends GET /replay/rounds for `room` (`limit` rounds, `token` as the bearer, or none:
 * anonymous) at the same moment, so the requests reach the server together rather than as their
 * connections happen to open. Resolves when every request was answered, with how many got each
 * status (0: the connection failed). Never rejects.
 */
import { Agent, request } from "node:http";

export interface ReplayBurst {
  httpUrl: string;
  room: string;
  token?: string;
  count: number;
  limit: number;
}

function get(agent: Agent, url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve(0));
    });
    req.on("error", () => resolve(0));
    req.end();
  });
}

export async function sendReplayBurst(a: ReplayBurst): Promise<Map<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: a.count });
  try {
    await Promise.all(Array.from({ length: a.count }, () => get(agent, `${a.httpUrl}/healthz`, {})));
    const url = `${a.httpUrl}/replay/rounds?room=${encodeURIComponent(a.room)}&limit=${a.limit}`;
    const headers: Record<string, string> = a.token === undefined ? {} : { authorization: `Bearer ${a.token}` };
    const statuses = await Promise.all(Array.from({ length: a.count }, () => get(agent, url, headers)));
    const counts = new Map<number, number>();
    for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
    return counts;
  } finally {
    agent.destroy();
  }
}
