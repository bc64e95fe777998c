/**
 * How a journal row's `input` and `calls` are stored, by the row's `enc` column:
 *   0  msgpack (rows written before encodings were numbered; still read)
 *   1  msgpack, then raw DEFLATE (level 1): ~4.5x smaller on real rounds, ~tens of µs per row
 * A row with any other `enc` was written by a newer Skirmish: it is refused with that said, never
 * guessed at.
 */
import { deflateRawSync, inflateRawSync, constants } from "node:zlib";
import { Packr } from "msgpackr";

// Records off: a journal must decode the same in any process, without shared structure tables.
const packr = new Packr({ useRecords: false, moreTypes: false });

/** The encoding new rows are written in. */
export const JOURNAL_ENCODING = 1;

export function encodeBlob(value: unknown): Uint8Array {
  return deflateRawSync(packr.pack(value), { level: constants.Z_BEST_SPEED });
}

/** Throws, naming the encoding, for one this version does not know. */
export function decodeBlob(bytes: Uint8Array, enc: number): unknown {
  if (enc === 0) return packr.unpack(bytes);
  if (enc === 1) return packr.unpack(inflateRawSync(bytes));
  throw new Error(
    `journal row encoding ${enc} is not known to this version (written by a newer Skirmish?); rows of encodings 0-${JOURNAL_ENCODING} can be read`,
  );
}
