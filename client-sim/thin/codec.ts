/**
 * The Colyseus 0.18 frames the thin client reads and writes, laid out as @colyseus/core's
 * `getMessageBytes` writes them and @colyseus/sdk's Room reads them (test/client-sim/thin-wire.test.ts
 * pins both directions against those two packages).
 *
 * A frame's first byte is the protocol code in its low 5 bits and modifier flags in its top 3.
 * Server -> client:
 *   JOIN_ROOM   [10][len][reconnection token][len][serializer id][varint n][n bytes state reflection][sections: tag, varint len, bytes]*
 *   ERROR       [11][number code][string message]
 *   ROOM_DATA   [13][string type | number type][msgpack payload?]
 *   ROOM_STATE  [14][schema full state]      ROOM_STATE_PATCH [15][schema patch]
 * Client -> server: JOIN_ROOM acknowledgement [10] (the room sends the state and queued messages
 * only after it), LEAVE_ROOM [12], ROOM_DATA packed exactly as the SDK's `room.send` packs it.
 * Strings and numbers are @colyseus/schema's encodings; payloads msgpack (msgpackr).
 */
import { Protocol } from "@colyseus/sdk";
import { decode, encode, type Iterator } from "@colyseus/schema";
import { Packr, RESERVE_START_SPACE, unpack } from "msgpackr";

/** the protocol code: the first byte's low 5 bits (shared-types' PROTOCOL_CODE_MASK) */
export const CODE_MASK = 0x1f;
/**
 * Modifier bits the server may set (shared-types' ProtocolModifier): TIMED prefixes a state or
 * patch with [uint32 server time][uint32 input ack]; UNRELIABLE prefixes a patch with [uint16 seq].
 */
export const TIMED = 0x80;
export const UNRELIABLE = 0x40;
const TIMED_PREFIX_BYTES = 8;

export const JOIN_ACK = Uint8Array.of(Protocol.JOIN_ROOM);
export const LEAVE = Uint8Array.of(Protocol.LEAVE_ROOM);

export interface JoinFrame {
  /** the token part only; the SDK's `room.reconnectionToken` is `${roomId}:${token}` */
  reconnectionToken: string;
  serializerId: string;
  /** the state reflection (@colyseus/schema Reflection.encode), empty when the server skipped it */
  reflection: Uint8Array;
  /** tags of the trailing handshake sections (input reflection and options; none in the arena) */
  sections: number[];
}

/** Reads a JOIN_ROOM frame as the SDK's Room does. Throws RangeError on a truncated frame. */
export function readJoin(frame: Uint8Array): JoinFrame {
  const it: Iterator = { offset: 1 };
  const reconnectionToken = decode.utf8Read(frame as Buffer, it, frame[it.offset++]);
  const serializerId = decode.utf8Read(frame as Buffer, it, frame[it.offset++]);
  const reflectionLength = decode.number(frame as Buffer, it);
  const reflection = frame.subarray(it.offset, it.offset + reflectionLength);
  it.offset += reflectionLength;
  const sections: number[] = [];
  while (it.offset < frame.byteLength) {
    sections.push(frame[it.offset++]);
    const length = decode.number(frame as Buffer, it);
    it.offset += length;
  }
  if (it.offset > frame.byteLength || reflection.byteLength !== reflectionLength) {
    throw new RangeError("truncated JOIN_ROOM frame");
  }
  return { reconnectionToken, serializerId, reflection, sections };
}

export function readError(frame: Uint8Array): { code: number; message: string } {
  const it: Iterator = { offset: 1 };
  const code = decode.number(frame as Buffer, it);
  return { code, message: decode.string(frame as Buffer, it) };
}

/** A ROOM_DATA frame's message type and where its payload starts. */
export function readDataType(frame: Uint8Array): { type: string | number; offset: number } {
  const it: Iterator = { offset: 1 };
  const type = decode.stringCheck(frame as Buffer, it)
    ? decode.string(frame as Buffer, it)
    : decode.number(frame as Buffer, it);
  return { type, offset: it.offset };
}

/** The msgpack payload from `offset` on (undefined when the frame has none). */
export function readPayload(frame: Uint8Array, offset: number): unknown {
  return frame.byteLength > offset ? unpack(frame as Buffer, { start: offset }) : undefined;
}

/** Where a ROOM_STATE frame's schema bytes start (after the TIMED prefix, when there is one). */
export function stateOffset(frame: Uint8Array): number {
  return frame[0] & TIMED ? 1 + TIMED_PREFIX_BYTES : 1;
}

// One Packr, made as the SDK makes each room's (records on, nothing shared): its output does not
// depend on what it packed before, so one per process packs what every SDK room would.
const packr = new Packr();
// the SDK writes the type into an 8 KB scratch buffer too
const header = new Uint8Array(8192);

/**
 * A ROOM_DATA frame, byte for byte what the SDK's `room.send(type, payload)` writes. Valid until
 * the next call (msgpackr reuses its buffer): send it at once (ws copies it when masking).
 */
export function roomData(type: string | number, payload: unknown): Uint8Array {
  const it: Iterator = { offset: 1 };
  header[0] = Protocol.ROOM_DATA;
  if (typeof type === "string") encode.string(header, type, it);
  else encode.number(header, type, it);
  if (payload === undefined) return header.slice(0, it.offset);
  const frame = packr.pack(payload, RESERVE_START_SPACE | it.offset);
  frame.set(header.subarray(0, it.offset), 0);
  return frame;
}
