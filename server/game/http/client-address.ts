/**
 * Which address an HTTP request comes from, and the key per-address limits count it under.
 *
 * Without proxies (`trustedProxies` = 0, TRUST_PROXY unset) it is the socket's peer, and
 * X-Forwarded-For is ignored: any client can write that header. Behind n reverse proxies each
 * appends the address it received from, so the client is the entry n hops back from the socket
 * (the last n-1 entries and the socket are the proxies themselves); a list shorter than that
 * means a request that skipped a proxy, and its leftmost entry is taken.
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/** What a request's client address was not: an unparseable entry from a proxy. All such share one key. */
export const UNKNOWN_ADDRESS = "unknown";

export function clientAddress(req: IncomingMessage, trustedProxies: number): string {
  const peer = req.socket.remoteAddress ?? UNKNOWN_ADDRESS;
  if (trustedProxies === 0) return peer;
  const header = req.headers["x-forwarded-for"];
  const forwarded = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  const chain = [...forwarded, peer];
  const entry = chain[Math.max(0, chain.length - 1 - trustedProxies)];
  return bareAddress(entry) ?? UNKNOWN_ADDRESS;
}

/** An address without the decorations some proxies add: `[v6]`, `[v6]:port`, `v4:port`. */
function bareAddress(entry: string): string | undefined {
  if (isIP(entry) !== 0) return entry;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed && isIP(bracketed[1]) === 6) return bracketed[1];
  const withPort = /^([\d.]+):\d+$/.exec(entry);
  if (withPort && isIP(withPort[1]) === 4) return withPort[1];
  return undefined;
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * The key an address is limited under: IPv4 as it is (an IPv4-mapped IPv6 address as its IPv4),
 * IPv6 by its /64, the block one subscriber usually gets whole: keyed per address, one home
 * line would hold 2^64 fresh budgets.
 */
export function addressKey(address: string): string {
  const mapped = MAPPED_V4.exec(address);
  if (mapped) return mapped[1];
  if (isIP(address) !== 6) return address;
  return ipv6Groups(address).slice(0, 4).join(":") + "::/64";
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped form: this machine. */
export function isLoopback(address: string): boolean {
  const v4 = MAPPED_V4.exec(address)?.[1] ?? address;
  if (isIP(v4) === 4) return v4.startsWith("127.");
  return isIP(address) === 6 && ipv6Groups(address).join(":") === "0:0:0:0:0:0:0:1";
}

/** The 8 groups of a valid IPv6 address, each without leading zeros (`::` expanded, an IPv4 tail in hex). */
function ipv6Groups(address: string): string[] {
  let text = address.split("%")[0].toLowerCase(); // a zone index names an interface, not an address
  const v4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4Tail) {
    const [a, b, c, d] = v4Tail.slice(1).map(Number);
    text = text.slice(0, v4Tail.index) + ((a << 8) | b).toString(16) + ":" + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16));
}
