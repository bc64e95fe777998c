/**
 * How a journal row's `input` and `calls` are stored, by the row's `enc` column:
 *   0  msgpack maps (rows written before encodings were numbered)
 *   1  msgpack maps, then raw DEFLATE (level 1)
 *   2  msgpack records: each object shape's keys written once per row, its objects as values
 *      only. ~2.2x smaller than 0 on real rounds (1.5x larger than 1), and a quarter of 1's CPU:
 *      deflating each row was 5.5-10 % of the server's self time in profiles under load
 *      (bench/profiles.md)
 * Every row decodes on its own (record definitions are inline, never shared between rows), in
 * any process. Rows of 0 and 1 are still read; a row with any other `enc` was written by a newer
 * Skirmish: it is refused with that said, never guessed at.
 */
import { inflateRawSync } from "node:zlib";
import { Packr, Unpackr } from "msgpackr";

// Maps: the plain msgpack of encodings 0 and 1, which any msgpack reader can decode.
const maps = new Packr({ useRecords: false, moreTypes: false });
// Records without `structures`: the definitions travel inline in each row.
const records = new Packr({ useRecords: true, moreTypes: false });
const recordReader = new Unpackr({ useRecords: true, moreTypes: false });

/** The encoding new rows are written in. */
export const JOURNAL_ENCODING = 2;

export function encodeBlob(value: unknown): Uint8Array {
  return records.pack(value);
}

/** Throws, naming the encoding, for one this version does not know. */
export function decodeBlob(bytes: Uint8Array, enc: number): unknown {
  if (enc === 2) return recordReader.unpack(bytes);
  if (enc === 1) return maps.unpack(inflateRawSync(bytes));
  if (enc === 0) return maps.unpack(bytes);
  throw new Error(
    `journal row encoding ${enc} is not known to this version (written by a newer Skirmish?); rows of encodings 0-${JOURNAL_ENCODING} can be read`,
  );
}
