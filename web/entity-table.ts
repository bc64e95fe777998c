/**
 * The arena table, shared by the play page and the replay viewer: one row per entity, keyed by
 * entity id, created once and then updated in place (a button under the pointer or holding the
 * keyboard focus is never replaced). Rows keep the order in which they first appeared, so
 * nothing jumps between rounds; hotkeys 1-9 number the rows of the other entities in that order.
 */
import type { CombatantState } from "../shared/combat.ts";

/** What a row shows: the fields of the synchronised Entity schema (shared/state.ts). */
export interface EntityView extends CombatantState {
  name: string;
  kind: string;
  stale: boolean;
  absent: boolean;
  connected: boolean;
}

export interface TableContext {
  /** the viewer's own entity, if it has one */
  me?: string;
  /** false: every Attack button is disabled (dead, disconnected, or only watching) */
  canAct: boolean;
  /** the target picked with a hotkey */
  selected?: string;
}

interface Row {
  li: HTMLLIElement;
  key: HTMLSpanElement;
  name: HTMLSpanElement;
  kind: HTMLSpanElement;
  bar: HTMLSpanElement;
  hp: HTMLSpanElement;
  flags: HTMLSpanElement;
  attack: HTMLButtonElement | null;
  shown: Record<string, string | boolean>;
}

/** Colour band of an hp fraction: green above half, amber above a quarter, red below. */
export function hpBand(hp: number, maxHp: number): "high" | "mid" | "low" {
  const f = maxHp > 0 ? hp / maxHp : 0;
  return f > 0.5 ? "high" : f > 0.25 ? "mid" : "low";
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  parent?: HTMLElement,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  parent?.append(node);
  return node;
}

export class EntityTable {
  private readonly rows = new Map<string, Row>();
  private readonly list: HTMLOListElement;
  private readonly onAttack: ((id: string) => void) | undefined;

  /** `onAttack`: with it, each row of another entity gets an Attack button calling it. */
  constructor(parent: HTMLElement, onAttack?: (id: string) => void) {
    this.list = el("ol", "entities", parent);
    this.onAttack = onAttack;
  }

  /** Ids of the other entities in row order: what hotkeys 1-9 select. */
  targets(me: string | undefined): string[] {
    return [...this.rows.keys()].filter((id) => id !== me);
  }

  update(entities: Iterable<EntityView>, ctx: TableContext): void {
    const seen = new Set<string>();
    const fresh: EntityView[] = [];
    for (const e of entities) {
      seen.add(e.id);
      if (!this.rows.has(e.id)) fresh.push(e);
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.li.remove();
        this.rows.delete(id);
      }
    }
    // new rows go after the existing ones, a batch in id order (NPCs first, then players)
    fresh.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const e of fresh) this.rows.set(e.id, this.createRow(e.id, e.id === ctx.me));
    const byId = new Map<string, EntityView>();
    for (const e of entities) byId.set(e.id, e);
    let n = 0;
    for (const [id, row] of this.rows) {
      const key = id === ctx.me ? "" : ++n <= 9 ? String(n) : "";
      this.fill(row, byId.get(id)!, key, ctx);
    }
  }

  private createRow(id: string, isMe: boolean): Row {
    const li = el("li", "entity");
    li.dataset.id = id;
    const key = el("span", "key", li);
    const who = el("div", "who", li);
    const nameLine = el("div", "name", who);
    const name = el("span", "label", nameLine);
    const kind = el("span", "kind", nameLine);
    const hpline = el("div", "hpline", who);
    const bg = el("span", "bar-bg", hpline);
    const bar = el("span", "bar high", bg);
    const hp = el("span", "hp", hpline);
    const flags = el("span", "flags", hpline);
    let attack: HTMLButtonElement | null = null;
    if (this.onAttack && !isMe) {
      attack = el("button", "attack", li);
      attack.type = "button";
      attack.textContent = "Attack";
      const onAttack = this.onAttack;
      attack.addEventListener("click", () => onAttack(id));
    } else {
      el("span", "", li);
    }
    this.list.append(li);
    return { li, key, name, kind, bar, hp, flags, attack, shown: {} };
  }

  /** Writes only what changed: a row's nodes are touched when their text or state does. */
  private fill(row: Row, e: EntityView, key: string, ctx: TableContext): void {
    const isMe = e.id === ctx.me;
    const flags = [
      e.defending ? "defending" : "",
      e.charge ? `charge ${e.charge}` : "",
      e.stale ? "stale" : "",
      e.absent ? "absent" : "",
      e.alive ? "" : `respawn in ${e.respawnIn}`,
    ]
      .filter(Boolean)
      .join(" · ");
    const pct = e.maxHp > 0 ? Math.max(0, Math.min(100, Math.round((100 * e.hp) / e.maxHp))) : 0;
    const want: Record<string, string | boolean> = {
      key,
      name: e.name + (isMe ? " (you)" : ""),
      kind: e.kind,
      hp: `${e.hp}/${e.maxHp}`,
      flags,
      width: `${pct}%`,
      band: hpBand(e.hp, e.maxHp),
      me: isMe,
      dead: !e.alive,
      offline: !e.connected,
      selected: ctx.selected === e.id,
      disabled: !ctx.canAct || !e.alive,
    };
    const was = row.shown;
    if (was.key !== want.key) row.key.textContent = key;
    if (was.name !== want.name) row.name.textContent = want.name as string;
    if (was.kind !== want.kind) row.kind.textContent = e.kind;
    if (was.hp !== want.hp) row.hp.textContent = want.hp as string;
    if (was.flags !== want.flags) row.flags.textContent = flags;
    if (was.width !== want.width) row.bar.style.width = want.width as string;
    if (was.band !== want.band) row.bar.className = `bar ${want.band}`;
    for (const cls of ["me", "dead", "offline", "selected"] as const) {
      if (was[cls] !== want[cls]) row.li.classList.toggle(cls, want[cls] as boolean);
    }
    if (row.attack && was.disabled !== want.disabled) row.attack.disabled = want.disabled as boolean;
    if (row.attack && was.name !== want.name) row.attack.setAttribute("aria-label", `Attack ${e.name}`);
    row.li.dataset.hp = String(e.hp);
    row.shown = want;
  }
}
