import { describe, expect, it } from "vitest";
import { parseIntent } from "../../shared/protocol.ts";

describe("parseIntent", () => {
  it("accepts the three actions", () => {
    expect(parseIntent({ seq: 1, action: "attack", target: "npc_goblin_1" })).toEqual({
      ok: true,
      value: { seq: 1, action: "attack", target: "npc_goblin_1" },
    });
    expect(parseIntent({ seq: 0, action: "defend" })).toEqual({ ok: true, value: { seq: 0, action: "defend" } });
    expect(parseIntent({ seq: 4294967295, action: "focus" })).toEqual({
      ok: true,
      value: { seq: 4294967295, action: "focus" },
    });
  });

  it.each([
    [null, /object/],
    [[1, 2], /object/],
    ["attack", /object/],
    [{ action: "defend" }, /seq/],
    [{ seq: -1, action: "defend" }, /seq/],
    [{ seq: 1.5, action: "defend" }, /seq/],
    [{ seq: 2 ** 32, action: "defend" }, /seq/],
    [{ seq: "1", action: "defend" }, /seq/],
    [{ seq: 1, action: "dance" }, /action/],
    [{ seq: 1, action: "attack" }, /target/],
    [{ seq: 1, action: "attack", target: 5 }, /target/],
    [{ seq: 1, action: "attack", target: "x".repeat(65) }, /target/],
    [{ seq: 1, action: "attack", target: "a b" }, /target/],
    [{ seq: 1, action: "defend", target: "p_x" }, /unknown field "target"/],
    [{ seq: 1, action: "defend", __proto__x: 1 }, /unknown field/],
  ])("refuses %j with a clear message", (raw, message) => {
    const r = parseIntent(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe("bad_intent");
      expect(r.error.message).toMatch(message);
    }
  });
});
