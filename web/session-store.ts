/**
 * What a browser tab keeps in sessionStorage (it survives reloads and same-tab navigation, not
 * other tabs): the guest grant (POST /auth/guest), which the play page stores and the replay
 * viewer shows the server (a replay is for the room's own players and spectators), and the play
 * page's seat.
 */

/** The answer of POST /auth/guest. */
export interface Grant {
  playerId: string;
  name: string;
  token: string;
}

export const GRANT_KEY = "skirmish.grant";

export function stored<T>(key: string): T | undefined {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? "null") ?? undefined;
  } catch {
    return undefined;
  }
}

export function store(key: string, value: unknown): void {
  sessionStorage.setItem(key, JSON.stringify(value));
}
