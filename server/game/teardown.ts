/**
 * The game server's one teardown list: each part registers its own close as it starts, and the
 * list closes them in reverse order, whether the server is stopping or failed half-way through
 * starting. A part whose close fails is logged and the rest still close: a failed close only
 * matters for debugging, a skipped one leaks a port or a file.
 */
import { errorFields, type Logger } from "../observability/log.ts";

export class Teardown {
  private readonly parts: { name: string; close: () => unknown }[] = [];
  private closed: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** `close` runs once, after every part registered later has closed */
  add(name: string, close: () => unknown): void {
    this.parts.push({ name, close });
  }

  /** closes every part, last registered first; idempotent (a second call awaits the first) */
  close(): Promise<void> {
    return (this.closed ??= (async () => {
      for (const { name, close } of this.parts.reverse()) {
        try {
          await close();
        } catch (err) {
          this.log.error(`${name} close failed`, errorFields(err));
        }
      }
    })());
  }
}
