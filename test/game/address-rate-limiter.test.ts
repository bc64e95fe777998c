import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { AddressRateLimiter } from "../../server/game/http/address-rate-limiter.ts";
import { addressKey, clientAddress, isLoopback } from "../../server/game/http/client-address.ts";

describe("per-address token bucket", () => {
  it("spends the burst, then earns perMinute back, never more than the burst", () => {
    const limiter = new AddressRateLimiter({ perMinute: 6, burst: 2, maxAddresses: 10 });
    expect(limiter.take("a", 0)).toEqual({ ok: true });
    expect(limiter.take("a", 0)).toEqual({ ok: true });
    expect(limiter.take("a", 0)).toEqual({ ok: false, retryAfterS: 10 });
    expect(limiter.take("b", 0)).toEqual({ ok: true }); // another address, its own bucket
    expect(limiter.take("a", 4_000)).toEqual({ ok: false, retryAfterS: 6 });
    expect(limiter.take("a", 10_000)).toEqual({ ok: true });
    expect(limiter.take("a", 10_000)).toMatchObject({ ok: false });
    // a long quiet spell refills to the burst, not beyond
    for (const _ of [1, 2]) expect(limiter.take("a", 3_600_000)).toEqual({ ok: true });
    expect(limiter.take("a", 3_600_000)).toMatchObject({ ok: false });
  });

  it("peeks at a bucket without spending it or remembering a new address", () => {
    const limiter = new AddressRateLimiter({ perMinute: 6, burst: 2, maxAddresses: 10 });
    expect(limiter.peek("a", 0)).toEqual({ ok: true });
    expect(limiter.size).toBe(0);
    limiter.take("a", 0);
    limiter.take("a", 0);
    for (const _ of [1, 2]) expect(limiter.peek("a", 0)).toEqual({ ok: false, retryAfterS: 10 });
    expect(limiter.peek("a", 10_000)).toEqual({ ok: true });
    expect(limiter.take("a", 10_000)).toEqual({ ok: true }); // the peek spent nothing
  });

  it("holds at most maxAddresses buckets under an address flood, forgetting the least recently seen", () => {
    let evicted = 0;
    const limiter = new AddressRateLimiter({ perMinute: 1, burst: 1, maxAddresses: 100 }, () => evicted++);
    expect(limiter.take("regular", 0)).toEqual({ ok: true });
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`flood-${i}`, i);
      // a client that keeps coming stays remembered (and limited) through the flood
      if (i % 50 === 0) expect(limiter.take("regular", i)).toMatchObject({ ok: false });
    }
    expect(limiter.size).toBe(100);
    expect(evicted).toBe(10_001 - 100);
  });
});

function request(remoteAddress: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
  } as unknown as IncomingMessage;
}

describe("client address", () => {
  it("is the socket's peer unless proxies are trusted, then the entry that many hops back", () => {
    expect(clientAddress(request("10.0.0.5", "1.2.3.4"), 0)).toBe("10.0.0.5");
    expect(clientAddress(request("10.0.0.5", "1.2.3.4"), 1)).toBe("1.2.3.4");
    expect(clientAddress(request("10.0.0.5", "6.6.6.6, 1.2.3.4"), 1)).toBe("1.2.3.4");
    expect(clientAddress(request("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9"), 2)).toBe("1.2.3.4");
    // fewer entries than hops: the request skipped a proxy; its leftmost entry
    expect(clientAddress(request("10.0.0.5", "1.2.3.4"), 3)).toBe("1.2.3.4");
    expect(clientAddress(request("10.0.0.5"), 1)).toBe("10.0.0.5");
    expect(clientAddress(request("10.0.0.5", "[2001:db8::1]:443"), 1)).toBe("2001:db8::1");
    expect(clientAddress(request("10.0.0.5", "1.2.3.4:5678"), 1)).toBe("1.2.3.4");
    expect(clientAddress(request("10.0.0.5", "not-an-address"), 1)).toBe("unknown");
  });

  it("is limited as IPv4, or by its IPv6 /64", () => {
    expect(addressKey("1.2.3.4")).toBe("1.2.3.4");
    expect(addressKey("::ffff:1.2.3.4")).toBe("1.2.3.4");
    expect(addressKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002:ffff:0:0:2")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("64:ff9b::192.0.2.33")).toBe("64:ff9b:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  it("knows this machine's addresses", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"])
      expect(isLoopback(a), a).toBe(true);
    for (const a of ["10.0.0.1", "::2", "2001:db8::1", "::ffff:10.0.0.1", "unknown"])
      expect(isLoopback(a), a).toBe(false);
  });
});
