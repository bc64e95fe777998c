// The thin client beside the real SDK in one arena of a real game server (with a real stats
// service): both see the same rounds, with the same hashes and the same round messages; the thin
// view of who is alive matches the SDK's synced state; thin intents resolve; a thin seat drops,
// comes back with its reconnection token as the same entity, and leaves; no protocol errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metrics } from "../../client-sim/metrics.ts";
import type { Seat, SeatEvents, SeatSource } from "../../client-sim/seat.ts";
import { thinSeats } from "../../client-sim/thin/thin-seats.ts";
import { Msg, type ErrorMessage, type RoundMessage } from "../../shared/protocol.ts";
import { entitiesOf, guest, join, leaveAll, startGame, startStats, waitFor, type Player } from "../game/helpers.ts";

type Game = Awaited<ReturnType<typeof startGame>>;
type Stats = Awaited<ReturnType<typeof startStats>>;

/** What a thin seat received, and the intents it sent. */
interface ThinPlayer {
  seat: Seat;
  id: string;
  rounds: RoundMessage[];
  /** the seat's living ids when each round message arrived */
  living: string[][];
  errors: ErrorMessage[];
  sent: number[];
  ended: number | null;
  dropped: number | null;
}

/**
 * Plays a thin seat: an intent every other round (an attack on a living NPC, else defend) while
 * alive. Not every round: on a loaded machine an intent can reach the room after the cut-off it
 * was meant for, and the next one would then replace it unseen (the last intent before a cut-off
 * counts); a round apart, a late intent is still resolved, one round later.
 */
function play(seat: Seat, id: string, firstSeq = 1): ThinPlayer {
  const p: ThinPlayer = { seat, id, rounds: [], living: [], errors: [], sent: [], ended: null, dropped: null };
  let seq = firstSeq;
  const events: SeatEvents = {
    round(msg) {
      p.rounds.push(msg);
      p.living.push([...seat.living()].sort());
      if (seat.aliveOf(id) === false || p.rounds.length % 2 === 0) return;
      const npc = seat.living().find((e) => e.startsWith("npc_"));
      p.sent.push(seq);
      seat.send(Msg.intent, npc ? { seq: seq++, action: "attack", target: npc } : { seq: seq++, action: "defend" });
    },
    error: (err) => p.errors.push(err),
    unexpected: (type) => p.errors.push({ code: "unknown_type", message: String(type) }),
    roomError: (code, message) => p.errors.push({ code: "bad_frame", message: `${code} ${message}` }),
    dropped: (code) => (p.dropped = code),
    reconnected() {},
    ended: (code) => (p.ended = code),
  };
  seat.listen(events);
  return p;
}

function livingOf(player: Player): string[] {
  return [...entitiesOf(player.room)]
    .filter(([, e]) => e.alive)
    .map(([id]) => id)
    .sort();
}

const never = new AbortController().signal;

describe("thin and SDK clients in one arena", () => {
  let stats: Stats;
  let game: Game;
  let sdk: Player;
  let seats: SeatSource;
  const metrics = new Metrics();
  const sdkLiving = new Map<number, string[]>();

  beforeAll(async () => {
    stats = await startStats();
    game = await startGame(stats.rpcUrl, { clientRoomChoice: 1 });
    sdk = await join(game, "sdk-player");
    // a player that acts every round: the thin view sees who is in the room by their actions
    let seq = 1;
    sdk.room.onMessage(Msg.round, (m: RoundMessage) => {
      sdkLiving.set(m.round, livingOf(sdk));
      if (entitiesOf(sdk.room).get(sdk.id)?.alive) sdk.room.send(Msg.intent, { seq: seq++, action: "defend" });
    });
    seats = thinSeats(game.httpUrl, game.url, metrics, () => {})({ opened() {}, received() {} });
  }, 30_000);
  afterAll(async () => {
    if (sdk) await leaveAll([sdk]);
    await game?.close();
    await stats?.close();
  });

  it("see the same (round, hash) sequence and round messages; thin intents resolve", async () => {
    const g = await guest(game, "thin-player");
    const thin = play(await seats.joinById(sdk.room.roomId, g.token, never), g.playerId);
    try {
      // enough rounds for several intents, deaths and respawns to go by
      await waitFor("40 rounds on the thin seat", () => thin.rounds.length >= 40, 30_000);
      const sdkRounds = new Map(sdk.rounds.map((m) => [m.round, m]));
      const common = thin.rounds.filter((m) => sdkRounds.has(m.round));
      expect(common.length).toBeGreaterThanOrEqual(39);
      // the thin seat's rounds are a consecutive run of the SDK's, message for message
      const first = sdk.rounds.findIndex((m) => m.round === thin.rounds[0].round);
      expect(thin.rounds.map((m) => [m.round, m.hash])).toEqual(
        sdk.rounds.slice(first, first + thin.rounds.length).map((m) => [m.round, m.hash]),
      );
      for (const m of common) expect(m).toEqual(sdkRounds.get(m.round));
      // its view of who is alive (first state + round events, no patches) is the SDK's synced
      // state, from the round after its own join patch on (until then it cannot tell whether that
      // patch removed someone, so it offers only what its first round showed as targets)
      for (const [i, m] of thin.rounds.entries()) {
        if (i >= 2 && sdkLiving.has(m.round))
          expect(thin.living[i], `round ${m.round}`).toEqual(sdkLiving.get(m.round));
      }
      // and it knows the other player (alive in some round: it may be dead in the last one)
      expect(thin.living.some((living) => living.includes(sdk.id))).toBe(true);
      // every intent sent before the last two rounds was resolved (listed in a round) or refused
      // for a death the bot had not seen yet (an NPC it chose died in the round it was sent in)
      const resolved = new Set(
        thin.rounds.flatMap((m) => m.intents.filter(([id]) => id === thin.id).map(([, seq]) => seq)),
      );
      const settled = thin.sent.slice(0, -2);
      expect(settled.filter((seq) => resolved.has(seq)).length).toBeGreaterThan(8);
      expect(settled.filter((seq) => !resolved.has(seq)).length).toBeLessThanOrEqual(thin.errors.length);
      expect(thin.errors.filter((e) => e.code !== "dead" && e.code !== "target_dead")).toEqual([]);
      expect(metrics.snapshot(false).errors).toEqual({});
    } finally {
      await thin.seat.leave();
    }
  }, 50_000);

  it("a dropped thin seat comes back with its reconnection token as the same entity, then leaves", async () => {
    // another thin seat in the room, to see the leave
    const o = await guest(game, "thin-observer");
    const observer = play(await seats.joinById(sdk.room.roomId, o.token, never), o.playerId);
    const g = await guest(game, "thin-reconnects");
    const before = play(await seats.joinById(sdk.room.roomId, g.token, never), g.playerId);
    await waitFor("rounds before the drop", () => before.rounds.length >= 3, 10_000);
    before.seat.drop("test drop");
    await waitFor("the drop", () => before.ended !== null, 10_000);
    expect(before.dropped).toBe(4010);
    await waitFor("the room holding the dropped seat", () => entitiesOf(sdk.room).get(g.playerId)?.connected === false);

    const after = play(await seats.reconnect(before.seat.reconnectionToken, never), g.playerId, 1000);
    await waitFor("rounds after the reconnect", () => after.rounds.length >= 5, 10_000);
    expect(entitiesOf(sdk.room).get(g.playerId)?.connected).toBe(true);
    const resolved = after.rounds.flatMap((m) => m.intents.filter(([id]) => id === g.playerId).map(([, s]) => s));
    expect(resolved.some((s) => s >= 1000)).toBe(true);

    expect(observer.seat.living()).toContain(g.playerId);

    await after.seat.leave();
    expect(after.ended).toBe(4000);
    await waitFor("the entity gone after the leave", () => !entitiesOf(sdk.room).has(g.playerId));
    // the thin view cannot read the patch that removed it, but from the next round on the observer
    // no longer offers it as a target: it was not seen since that patch
    const seen = observer.rounds.length;
    await waitFor("two rounds after the leave", () => observer.rounds.length >= seen + 2, 10_000);
    expect(observer.seat.living()).not.toContain(g.playerId);
    expect(observer.seat.inView(g.playerId)).toBe(false);
    await observer.seat.leave();
    expect(metrics.snapshot(false).errors).toEqual({});
  }, 40_000);
});
