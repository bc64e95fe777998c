/**
 * Each client's soft limit on intents, at half Colyseus' hard one (MAX_MESSAGES_PER_SECOND): past
 * it intents are ignored and the client is told, once per one-second window, before Colyseus
 * drops it at the hard limit.
 */
export type Spent = "within" | "over_first" | "over";

export class IntentBudget {
  private readonly windows = new Map<string, { windowEnd: number; used: number; warned: boolean }>();
  private readonly perSecond: number;
  private readonly now: () => number;

  constructor(maxMessagesPerSecond: number, now: () => number) {
    this.perSecond = Math.max(1, Math.floor(maxMessagesPerSecond / 2));
    this.now = now;
  }

  /** One intent of `sessionId`: within the budget, over it for the first time in this window, or over again. */
  spend(sessionId: string): Spent {
    const now = this.now();
    let b = this.windows.get(sessionId);
    if (!b || now >= b.windowEnd) {
      b = { windowEnd: now + 1000, used: 0, warned: false };
      this.windows.set(sessionId, b);
    }
    b.used++;
    if (b.used <= this.perSecond) return "within";
    if (b.warned) return "over";
    b.warned = true;
    return "over_first";
  }

  forget(sessionId: string): void {
    this.windows.delete(sessionId);
  }
}
