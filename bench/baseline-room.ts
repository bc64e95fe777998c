/**
 * The plain-Colyseus baseline of `bench:capacity`: the arena the way a Colyseus user writes it
 * without Skirmish. An async `setSimulationInterval` callback that, every round, awaits
 * `Promise.all` over `fetch` to the stats service's HTTP API (no deadline: a slow fetch stretches
 * the round), rolls damage with `Math.random`, mutates the state and broadcasts a `round`
 * message; state goes out on Colyseus' default `patchRate` timer (50 ms). Same wire contract as
 * the arena (shared/protocol.ts, shared/state.ts, guest tokens), so the same client-sim bots
 * drive it; it reuses the arena's shape and room checks of intents so that both answer the same
 * refusals, and nothing else of Skirmish (no runtime, no stats client, no journal, no metrics).
 *
 * Run as a process: `node bench/baseline-room.ts` with PORT, HOST, STATS_URL (http://…),
 * STATS_TOKEN, or their flags (`--help`; declared as the game server's, the stats URL HTTP here); says ready like the servers do (`announceReady`); SIGTERM/SIGINT or its parent
 * exiting stop it.
 * Benchmark scaffolding, not a server to deploy.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { Room, Server, ServerError, ErrorCode, createEndpoint, createRouter, type Client } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { ArenaState, Entity } from "../shared/state.ts";
import { Msg, ROOM_NAME, parseIntent, type Intent, type RoundEvent, type RoundMessage } from "../shared/protocol.ts";
import { NPC_PROFILES, type PlayerStats } from "../shared/stats.ts";
import { RESPAWN_ROUNDS } from "../shared/combat.ts";
import { guestKey, issueGuest } from "../server/game/auth/guest-issuer.ts";
import { createTokenVerifier, type PlayerIdentity } from "../server/game/auth/token-verifier.ts";
import { createLogger } from "../server/observability/log.ts";
import { limitLog } from "../server/observability/log-limiter.ts";
import { checkIntent } from "../server/game/room/intent-queue.ts";
import { announceReady } from "../server/process/ready-message.ts";
import { exitWithParent } from "../server/process/exit-with-parent.ts";
import { GAME_COMMAND } from "../server/game/config.ts";
import { text, type Command } from "../shared/options.ts";
import { readCommandLine } from "./command-line.ts";

const TICK_HZ = 20;
const ROUND_TICKS = 10;
const MAX_PLAYERS = 16;
const NPC_KINDS = Object.keys(NPC_PROFILES).slice(0, 3);

const options = {
  port: GAME_COMMAND.options.port,
  host: GAME_COMMAND.options.host,
  statsUrl: text({
    flag: "stats-url",
    env: "STATS_URL",
    default: "http://127.0.0.1:2580",
    help: "the stats service's HTTP API (http://…)",
  }),
  statsToken: GAME_COMMAND.options.statsToken,
};
const BASELINE_COMMAND: Command<typeof options> = { usage: "node bench/baseline-room.ts [flags]", options };
const config = readCommandLine(BASELINE_COMMAND);
const { statsUrl } = config;
const TOKEN_TTL_S = 3600;
const signingKey = await guestKey(randomBytes(32).toString("hex"));
// the arena's token check, guests only: both servers spend the same on a join's auth
const verifyToken = createTokenVerifier({
  guestKey: signingKey,
  studio: null,
  ttlS: TOKEN_TTL_S,
  clockToleranceS: 30,
  limitedLog: limitLog(createLogger("info")),
});

async function fetchStats(id: string): Promise<PlayerStats> {
  const res = await fetch(`${statsUrl}/players/${id}/stats`, {
    headers: { authorization: `Bearer ${config.statsToken}` },
  });
  if (!res.ok) throw new Error(`stats ${id}: HTTP ${res.status}`);
  return (await res.json()) as PlayerStats;
}

class BaselineArena extends Room<{ state: ArenaState }> {
  private intents = new Map<string, Intent>();
  private ticks = 0;
  private round = 0;

  onCreate(): void {
    this.maxClients = MAX_PLAYERS;
    this.state = new ArenaState();
    this.state.phase = "waiting";
    NPC_KINDS.forEach((kind, i) => this.addEntity(`npc_${kind}_${i + 1}`, kind, "npc"));
    this.onMessage(Msg.intent, (client, raw) => {
      const pid = (client.userData as { pid: string }).pid;
      const parsed = parseIntent(raw);
      if (!parsed.ok) return client.send(Msg.error, parsed.error);
      const refusal = checkIntent({ aliveOf: (id) => this.state.entities.get(id)?.alive }, pid, parsed.value);
      if (refusal) return client.send(Msg.error, refusal);
      this.intents.set(pid, parsed.value);
    });
    this.setSimulationInterval(async () => {
      if (++this.ticks % ROUND_TICKS !== 0) return;
      try {
        await this.playRound();
      } catch (err) {
        console.error(JSON.stringify({ level: "error", msg: "round failed", error: String(err) }));
      }
    }, 1000 / TICK_HZ);
  }

  async onAuth(_client: Client, options: { token?: unknown }): Promise<PlayerIdentity> {
    const check = await verifyToken(options?.token);
    if (!check.ok) throw new ServerError(ErrorCode.AUTH_FAILED, check.message);
    return check.identity;
  }

  onJoin(client: Client, _options: unknown, auth: PlayerIdentity): void {
    client.userData = { pid: auth.pid };
    this.addEntity(auth.pid, auth.name, "player");
  }

  onLeave(client: Client): void {
    const pid = (client.userData as { pid: string }).pid;
    this.state.entities.delete(pid);
    this.intents.delete(pid);
  }

  private addEntity(id: string, name: string, kind: "player" | "npc"): void {
    const e = new Entity();
    Object.assign(e, {
      id,
      name,
      kind,
      hp: 100,
      maxHp: 100,
      alive: true,
      respawnIn: 0,
      charge: 0,
      defending: false,
      stale: false,
      absent: false,
      connected: true,
    });
    this.state.entities.set(id, e);
  }

  private async playRound(): Promise<void> {
    const round = ++this.round;
    const started = performance.now();
    const living = [...this.state.entities.values()].filter((e) => e.alive);
    const stats = await Promise.all(living.map((e) => fetchStats(e.id)));
    const joinMs = performance.now() - started;
    const byId = new Map(stats.map((s) => [s.id, s]));
    const intents = this.intents;
    this.intents = new Map();
    const events: RoundEvent[] = [];
    const used: [string, number][] = [...intents].map(([id, intent]) => [id, intent.seq]);
    // NPCs pick a random living target
    const chosen = new Map(
      living.map((e) => [e.id, intents.get(e.id) ?? (e.kind === "npc" ? this.npcIntent(e.id) : undefined)]),
    );
    for (const e of living) {
      const intent = chosen.get(e.id);
      e.defending = intent?.action === "defend";
      e.maxHp = byId.get(e.id)?.maxHp ?? e.maxHp;
      e.hp = Math.min(e.hp, e.maxHp);
      if (intent?.action === "defend") events.push({ t: "defend", by: e.id });
      if (intent?.action === "focus") {
        e.charge = Math.min(2, e.charge + 1);
        events.push({ t: "focus", by: e.id, charge: e.charge });
      }
    }
    for (const e of living) {
      const intent = chosen.get(e.id);
      if (intent?.action !== "attack" || !e.alive) continue;
      const target = this.state.entities.get(intent.target);
      const s = byId.get(e.id);
      if (!target?.alive || !s) continue;
      const crit = Math.random() * 1000 < s.critChance;
      const roll = s.attack * (0.9 + 0.2 * Math.random()) * (1 + 0.5 * e.charge) * (crit ? s.critMultiplier / 100 : 1);
      let damage = Math.max(1, Math.round(roll - (byId.get(target.id)?.defense ?? 0) / 2));
      if (target.defending) damage = Math.ceil(damage / 2);
      e.charge = 0;
      target.hp = Math.max(0, target.hp - damage);
      events.push({ t: "attack", by: e.id, target: target.id, damage, crit, hp: target.hp });
      if (target.hp === 0) {
        target.alive = false;
        target.respawnIn = RESPAWN_ROUNDS;
        events.push({ t: "death", by: target.id, killer: e.id });
      }
    }
    for (const e of this.state.entities.values()) {
      if (e.alive || living.includes(e) || --e.respawnIn > 0) continue;
      e.alive = true;
      e.hp = e.maxHp;
      events.push({ t: "respawn", by: e.id, hp: e.hp });
    }
    this.state.round = round;
    this.state.phase = "fighting";
    used.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const msg: RoundMessage = { round, seed: 0, events, intents: used, stale: [], absent: [], joinMs, hash: "" };
    this.broadcast(Msg.round, msg);
  }

  private npcIntent(self: string): Intent {
    const targets = [...this.state.entities.values()].filter((e) => e.alive && e.id !== self);
    if (targets.length === 0 || Math.random() < 0.2) return { seq: 0, action: "defend" };
    return { seq: 0, action: "attack", target: targets[Math.floor(Math.random() * targets.length)].id };
  }
}

const transport = new WebSocketTransport();
const server = new Server({ transport, greet: false, gracefullyShutdown: false });
server.router = createRouter({
  healthz: createEndpoint("/healthz", { method: "GET" }, async () => Response.json({ status: "ok" })),
  guest: createEndpoint("/auth/guest", { method: "POST" }, async (ctx) =>
    Response.json(
      await issueGuest(
        signingKey,
        TOKEN_TTL_S,
        (ctx.body as { name?: unknown } | undefined)?.name,
        Math.floor(Date.now() / 1000),
      ),
    ),
  ),
});
server.define(ROOM_NAME, BaselineArena);
await server.listen(config.port, config.host);
const port = (transport.server!.address() as AddressInfo).port;
console.log(JSON.stringify({ level: "info", msg: "baseline listening", port }));
announceReady(port);

const stop = async () => {
  await server.gracefullyShutdown(false).catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
exitWithParent(() => void stop());
