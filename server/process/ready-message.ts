/**
 * The one way a server process says "ready, on port P": an IPC message `{ type: "ready", port }`
 * to the process that spawned it with an IPC channel (`spawnReady`). Log lines stay for people;
 * no program reads them to find out whether a process is up.
 */
export interface ReadyMessage {
  type: "ready";
  port: number;
}

export function isReadyMessage(value: unknown): value is ReadyMessage {
  const m = value as Partial<ReadyMessage> | null;
  return typeof m === "object" && m !== null && m.type === "ready" && Number.isInteger(m.port);
}

/**
 * Tells the parent this process is ready and listening on `port`. A no-op without an IPC channel
 * (started from a shell). Errors: a channel already closed (the parent is gone) is ignored here;
 * the parent lifeline (`exitWithParent`) is what reacts to that.
 */
export function announceReady(port: number): void {
  if (process.send === undefined || !process.connected) return;
  const message: ReadyMessage = { type: "ready", port };
  process.send(message, undefined, undefined, () => {
    // a send failure means the parent is gone: nothing to tell, and the lifeline handles it
  });
}
