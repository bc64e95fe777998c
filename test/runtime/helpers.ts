/** Small helpers shared by the runtime tests. */

/** A promise that resolves with `value` after `ms` of real time, or rejects when `signal` aborts. */
export function delay<T>(ms: number, value: T, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Active handles of one kind ("Timeout", "Immediate", ...), as Node reports them. */
export function activeCount(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}
