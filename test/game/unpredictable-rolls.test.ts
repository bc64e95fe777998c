import { describe, expect, it } from "vitest";
import { RoomSecret } from "../../server/game/round/room-secret.ts";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { closeAfterAll, join, startGame, startStats, waitFor, type Player } from "./helpers.ts";

// The attack that made rolls predictable: a round seed was fmix32(roomSeed ^ mix(round)), and
// fmix32 is a bijection, so one published seed gave the room seed and with it every future round.
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
function unfmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7ed1b41d); // inverse of 0xc2b2ae35
  h ^= (h >>> 13) ^ (h >>> 26);
  h = Math.imul(h, 0xa5cb9243); // inverse of 0x85ebca6b
  h ^= h >>> 16;
  return h >>> 0;
}
const mix = (round: number) => fmix32(Math.imul(round >>> 0, 0x9e3779b1) ^ 0x5bd1e995);
const invertibleSeed = (roomSeed: number, round: number) => fmix32((roomSeed >>> 0) ^ mix(round));
/** The attacker's guess of round `round + 1`'s seed from round `round`'s published seed. */
const predictNext = (published: number, round: number) =>
  invertibleSeed((unfmix32(published) ^ mix(round)) >>> 0, round + 1);

describe("combat rolls cannot be predicted from what clients see", () => {
  it("the attack works on an invertible derivation (so the checks below can fail)", () => {
    const roomSeed = 0x1234abcd;
    for (let round = 1; round <= 50; round++)
      expect(predictNext(invertibleSeed(roomSeed, round), round)).toBe(invertibleSeed(roomSeed, round + 1));
  });

  it("round and NPC seeds are keyed: the same key, room and nonce give the same seeds, any other differs", () => {
    const nonce = RoomSecret.newNonce();
    const a = RoomSecret.derive("server-key", "room1", nonce);
    const again = RoomSecret.derive("server-key", "room1", Uint8Array.from(nonce));
    const otherKey = RoomSecret.derive("other-key", "room1", nonce);
    const otherRoom = RoomSecret.derive("server-key", "room2", nonce);
    const otherNonce = RoomSecret.derive("server-key", "room1", RoomSecret.newNonce());
    const seeds = (s: RoomSecret) => [1, 2, 3].flatMap((r) => [s.roundSeed(r), s.npcSeed("npc_wolf_2", r)]);
    expect(seeds(again)).toEqual(seeds(a));
    for (const other of [otherKey, otherRoom, otherNonce]) expect(seeds(other)).not.toEqual(seeds(a));
    for (const seed of seeds(a)) expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
  });

  it("seeds are HMAC-SHA256 of the room secret (golden vector: a journaled room restores with the same seeds)", () => {
    const nonce = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    const secret = RoomSecret.derive("server-key", "room1", nonce);
    // computed once with createHmac: HMAC(HMAC(HMAC(key, "skirmish room secret v1"), roomId \0 nonce), label)
    expect([secret.roundSeed(7), secret.npcSeed("npc_wolf_2", 7), secret.roundSeed(1_000_000)]).toEqual([
      298876075, 4120951499, 203621269,
    ]);
  });

  it("no published seed gives the next one away (0 of 200 predicted)", () => {
    const secret = RoomSecret.derive("server-key", "room1", RoomSecret.newNonce());
    let predicted = 0;
    for (let round = 1; round <= 200; round++)
      if (predictNext(secret.roundSeed(round), round) === secret.roundSeed(round + 1)) predicted++;
    expect(predicted).toBe(0);
  });

  describe("live: the seeds a player's round messages carry", () => {
    let stats: StatsService;
    let game: GameServer;
    let ann: Player;
    closeAfterAll(() => ({ players: [ann], game, stats }));

    it("are never the next round's predicted seed", async () => {
      stats = await startStats();
      game = await startGame(stats.rpcUrl, { tickHz: 50, roundTicks: 2, roundDeadlineMs: 30 });
      ann = await join(game, "Ann");
      await waitFor("12 rounds", () => ann.rounds.length >= 12, 20_000);
      const rounds = ann.rounds.slice(0, 12);
      let predicted = 0;
      for (let i = 0; i + 1 < rounds.length; i++) {
        if (rounds[i + 1].round !== rounds[i].round + 1) continue;
        if (predictNext(rounds[i].seed, rounds[i].round) === rounds[i + 1].seed) predicted++;
      }
      expect(new Set(rounds.map((r) => r.seed)).size).toBe(rounds.length);
      expect(predicted).toBe(0);
    });
  });
});
