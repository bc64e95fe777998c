/**
 * The arena's state as the thin client reads it: the full state a room sends a seat once, after
 * the JOIN_ROOM acknowledgement (ROOM_STATE), decoded with the real @colyseus/schema Decoder into
 * shared/state.ts's ArenaState. Patches are never decoded (round messages keep the view current:
 * room-view.ts). The state reflection of the JOIN_ROOM handshake is compared with the one
 * ArenaState gives here, so a server whose schema differs shows as an error, not a skewed run.
 */
import { Decoder, Encoder, Reflection } from "@colyseus/schema";
import { ArenaState } from "../../shared/state.ts";

export interface FirstState {
  /** the latest round applied; -1: none yet */
  round: number;
  /** entity id -> alive */
  entities: Map<string, boolean>;
}

let expected: Uint8Array | undefined;

/** The handshake's state reflection is the one the server sends for shared/state.ts's ArenaState. */
export function sameSchema(reflection: Uint8Array): boolean {
  expected ??= Reflection.encode(new Encoder(new ArenaState()));
  return Buffer.from(reflection.buffer, reflection.byteOffset, reflection.byteLength).equals(expected);
}

/** Decodes a full state from `offset` of a ROOM_STATE frame; throws when it does not decode. */
export function readState(frame: Uint8Array, offset: number): FirstState {
  const state = new ArenaState();
  new Decoder(state).decode(frame, { offset });
  const entities = new Map<string, boolean>();
  state.entities.forEach((e, id) => entities.set(id, e.alive));
  // a room that has not played a round may not have set it (the plain-Colyseus baseline)
  return { round: state.round ?? -1, entities };
}
