/**
 * The round log of the play page and the replay viewer: one line per round event, newest on
 * top, trimmed to a fixed number of lines; the viewer's own events are highlighted.
 */
import type { RoundEvent } from "../shared/protocol.ts";

/** Lines kept; older ones are dropped as new ones arrive. */
export const LOG_LINES = 100;

export function describeEvent(e: RoundEvent, nameOf: (id: string) => string): string {
  switch (e.t) {
    case "attack":
      return `${nameOf(e.by)} hits ${nameOf(e.target)} for ${e.damage}${e.crit ? " (crit)" : ""} → ${e.hp}`;
    case "death":
      return `${nameOf(e.by)} is slain by ${nameOf(e.killer)}`;
    case "respawn":
      return `${nameOf(e.by)} respawns`;
    case "focus":
      return `${nameOf(e.by)} focuses (charge ${e.charge})`;
    case "defend":
      return `${nameOf(e.by)} defends`;
  }
}

/** "mine": the viewer acted; "hurt": the viewer was hit or killed. */
export function eventClass(e: RoundEvent, me: string | undefined): string {
  if (me === undefined) return "";
  if ((e.t === "attack" && e.target === me) || (e.t === "death" && e.by === me)) return "hurt";
  if (e.by === me || (e.t === "death" && e.killer === me)) return "mine";
  return "";
}

export class EventLog {
  private readonly box: HTMLElement;

  constructor(box: HTMLElement) {
    this.box = box;
  }

  add(text: string, className = ""): void {
    const line = document.createElement("div");
    line.textContent = text;
    if (className) line.className = className;
    this.box.prepend(line);
    while (this.box.childElementCount > LOG_LINES) this.box.lastElementChild!.remove();
  }

  round(round: number, events: readonly RoundEvent[], nameOf: (id: string) => string, me?: string): void {
    for (const e of events) this.add(`#${round} ${describeEvent(e, nameOf)}`, eventClass(e, me));
  }

  clear(): void {
    this.box.replaceChildren();
  }
}
