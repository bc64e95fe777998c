import { describe, expect, it } from "vitest";
import { fnv1a32, fnv1a64HexOfString, fnv1a64Hex } from "../../shared/hash.ts";

describe("fnv1a64", () => {
  // Published FNV-1a 64-bit test vectors (Fowler/Noll/Vo reference suite).
  it.each([
    ["", "cbf29ce484222325"],
    ["a", "af63dc4c8601ec8c"],
    ["foobar", "85944171f73967e8"],
  ])("hashes %j to %s", (input, expected) => {
    expect(fnv1a64HexOfString(input)).toBe(expected);
  });

  it("hashes every byte value (high bytes included)", () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const h = fnv1a64Hex(all);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    all[255] = 0;
    expect(fnv1a64Hex(all)).not.toBe(h);
  });
});

describe("fnv1a32", () => {
  it.each([
    ["", 0x811c9dc5],
    ["a", 0xe40c292c],
    ["foobar", 0xbf9cf968],
  ])("hashes %j to the published vector", (input, expected) => {
    expect(fnv1a32(input)).toBe(expected);
  });
});
