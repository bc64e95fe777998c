/**
 * The `npm start` supervisor's "child ready" records, read from its output (`[main] {...}` lines):
 * the process (pid, port) a child runs as now and how often it has been restarted. Readiness itself
 * is the IPC ready message (server/process/ready-message.ts); these records are how a test finds
 * a child's pid to kill it, and sees that the supervisor brought it back.
 */
export interface ChildReady {
  time: string;
  child: string;
  pid: number;
  port: number;
  restarts: number;
}

/** Every "child ready" record in `lines`, oldest first. */
export function childReadyRecords(lines: string[]): ChildReady[] {
  return lines
    .filter((l) => l.startsWith("[main] ") && l.includes('"msg":"child ready"'))
    .map((l) => JSON.parse(l.slice("[main] ".length)) as ChildReady);
}

/** The latest "child ready" record of `child`; throws when it has none yet. */
export function latestChildReady(lines: string[], child: string): ChildReady {
  const latest = childReadyRecords(lines)
    .filter((r) => r.child === child)
    .at(-1);
  if (latest === undefined) throw new Error(`no "child ready" record of ${child} yet`);
  return latest;
}
