/**
 * The parent lifeline of a server process: `onParentGone` runs once when the process that
 * started this one is gone, so that killing a supervisor (even with SIGKILL) never leaves its
 * children running on their ports. Spawned with an IPC channel (`spawnReady`), the channel's
 * disconnect says so at once; started without one (`npm start` under npm, a shell), a check of
 * the parent pid every second does (the orphan is re-parented to init or a subreaper).
 *
 * Cancellation: none; it is meant to live as long as the process. The IPC listener keeps the
 * channel referenced, which a server that keeps running anyway does not mind.
 */
export function exitWithParent(onParentGone: () => void, checkEveryMs = 1000): void {
  let gone = false;
  const fire = () => {
    if (gone) return;
    gone = true;
    clearInterval(poll);
    onParentGone();
  };
  const parent = process.ppid;
  const poll = setInterval(() => {
    if (process.ppid !== parent) fire();
  }, checkEveryMs);
  poll.unref();
  if (process.channel !== undefined) {
    process.once("disconnect", fire);
    if (!process.connected) fire();
  }
}
