// Which refusals a bot's one-round-old view explains (expected under load) and which stay errors.
import { describe, expect, it } from "vitest";
import { StaleView } from "../../client-sim/stale-view.ts";
import type { ErrorMessage, RoundMessage, RoundEvent } from "../../shared/protocol.ts";

function round(n: number, events: RoundEvent[]): RoundMessage {
  return { round: n, seed: 1, events, intents: [], stale: [], absent: [], joinMs: 1, hash: "0" };
}
const refusal = (code: ErrorMessage["code"]): ErrorMessage => ({ code, message: "" });
const inView = (ids: string[]) => (id: string) => ids.includes(id);

describe("StaleView", () => {
  it("target_dead is lag only when a newer round reported the target's death", () => {
    const v = new StaleView();
    v.chose("me", 7, { seq: 1, action: "attack", target: "orc" }, inView(["me", "orc"]));
    expect(v.explains(refusal("target_dead"), inView(["me", "orc"]))).toBe(false);
    v.saw(round(7, [{ t: "death", by: "orc", killer: "x" }])); // the round the choice was made on: old news
    expect(v.explains(refusal("target_dead"), inView(["me", "orc"]))).toBe(false);
    v.saw(round(8, [{ t: "death", by: "wolf", killer: "x" }]));
    expect(v.explains(refusal("target_dead"), inView(["me", "orc"]))).toBe(false);
    v.saw(round(8, [{ t: "death", by: "orc", killer: "x" }]));
    expect(v.explains(refusal("target_dead"), inView(["me", "orc"]))).toBe(true);
  });

  it("dead is lag only when a newer round reported the sender's own death", () => {
    const v = new StaleView();
    v.chose("me", 3, { seq: 2, action: "defend" }, inView(["me"]));
    v.saw(round(4, [{ t: "death", by: "orc", killer: "me" }]));
    expect(v.explains(refusal("dead"), inView(["me"]))).toBe(false);
    v.saw(round(4, [{ t: "death", by: "me", killer: "orc" }]));
    expect(v.explains(refusal("dead"), inView(["me"]))).toBe(true);
    // a target_dead refusal of a non-attack intent has no target to blame
    expect(v.explains(refusal("target_dead"), inView(["me"]))).toBe(false);
  });

  it("unknown_target is lag only when the target was in view at the choice and has left it since", () => {
    const v = new StaleView();
    v.chose("me", 1, { seq: 3, action: "attack", target: "p2" }, inView(["me", "p2"]));
    expect(v.explains(refusal("unknown_target"), inView(["me", "p2"]))).toBe(false);
    expect(v.explains(refusal("unknown_target"), inView(["me"]))).toBe(true);
    // a target the bot never saw: its own bug, not lag
    v.chose("me", 1, { seq: 4, action: "attack", target: "ghost" }, inView(["me"]));
    expect(v.explains(refusal("unknown_target"), inView(["me"]))).toBe(false);
  });

  it("a new choice forgets the deaths seen for the previous one; other codes are never lag", () => {
    const v = new StaleView();
    expect(v.explains(refusal("dead"), inView([]))).toBe(false); // nothing sent yet
    v.chose("me", 1, { seq: 1, action: "attack", target: "orc" }, inView(["me", "orc"]));
    v.saw(
      round(2, [
        { t: "death", by: "orc", killer: "x" },
        { t: "death", by: "me", killer: "y" },
      ]),
    );
    for (const code of ["self_target", "bad_intent", "rate_limited", "absent", "unknown_type"] as const) {
      expect(v.explains(refusal(code), inView(["me"]))).toBe(false);
    }
    v.chose("me", 5, { seq: 2, action: "attack", target: "orc" }, inView(["me", "orc"]));
    expect(v.explains(refusal("target_dead"), inView(["me", "orc"]))).toBe(false);
    expect(v.explains(refusal("dead"), inView(["me", "orc"]))).toBe(false);
  });
});
