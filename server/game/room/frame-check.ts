/**
 * Whether a client frame's message type can be decoded, checked before Colyseus decodes it.
 *
 * Colyseus reads the type of a ROOM_DATA / ROOM_DATA_BYTES / ROOM_REQUEST frame with
 * @colyseus/schema's decoder, which on invalid UTF-8 writes one raw `console.error` line per frame
 * (a flood any client can cause, past every log limit) and reads a string length that runs past
 * the frame without complaint. `undecodableType` names what is wrong with the type (a string
 * that is not valid UTF-8 or does not fit in the frame, or a type that is neither string nor
 * number), or returns null for a frame Colyseus can decode; frames of other protocol codes pass.
 */
import { Protocol } from "@colyseus/core";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Byte length of the msgpack number at `at` (as schema's decode.number reads it), or 0 if none. */
function numberLength(frame: Uint8Array, at: number): number {
  const p = frame[at];
  if (p === undefined) return 0;
  if (p < 0x80 || p >= 0xe0) return 1; // positive / negative fixint
  switch (p) {
    case 0xcc:
    case 0xd0:
      return 2;
    case 0xcd:
    case 0xd1:
      return 3;
    case 0xca:
    case 0xce:
    case 0xd2:
      return 5;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 9;
    default:
      return 0;
  }
}

/** The msgpack string at `at`: [start, end) of its bytes, or null when it is not a string header. */
function stringBounds(frame: Uint8Array, at: number): [number, number] | null {
  const p = frame[at];
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (p >= 0xa0 && p < 0xc0) return [at + 1, at + 1 + (p & 0x1f)];
  // schema reads str16/str32 lengths little-endian; the bound check below is what matters here
  if (p === 0xd9 && at + 2 <= frame.length) return [at + 2, at + 2 + frame[at + 1]];
  if (p === 0xda && at + 3 <= frame.length) return [at + 3, at + 3 + view.getUint16(at + 1, true)];
  if (p === 0xdb && at + 5 <= frame.length) return [at + 5, at + 5 + view.getUint32(at + 1, true)];
  return null;
}

export function undecodableType(frame: Uint8Array): string | null {
  const code = frame[0] & 0x1f; // Colyseus' PROTOCOL_CODE_MASK: the high bits are modifiers
  let at = 1;
  if (code === Protocol.ROOM_REQUEST) {
    const n = numberLength(frame, at);
    if (n === 0) return "request id is not a number";
    at += n;
  } else if (code !== Protocol.ROOM_DATA && code !== Protocol.ROOM_DATA_BYTES) {
    return null;
  }
  const str = stringBounds(frame, at);
  if (str === null) return numberLength(frame, at) > 0 ? null : "message type is neither a string nor a number";
  const [start, end] = str;
  if (end > frame.length) return "message type runs past the end of the frame";
  try {
    strictUtf8.decode(frame.subarray(start, end));
  } catch {
    return "message type is not valid UTF-8";
  }
  return null;
}
