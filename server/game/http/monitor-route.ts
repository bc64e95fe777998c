/**
 * The Colyseus monitor (`@colyseus/monitor`) at /colyseus, for operators to list and inspect
 * rooms, behind HTTP basic auth (user `admin`, password MONITOR_PASSWORD; the browser asks for
 * it). With no password configured there is no monitor at all: its routes do not exist (404).
 *
 * A wrong or missing password is answered 401 with a challenge before any monitor code runs.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { basicAuth, type Endpoint } from "@colyseus/core";
import { monitor } from "@colyseus/monitor";

export const MONITOR_PATH = "/colyseus";
export const MONITOR_USER = "admin";

function sameSecret(a: string, b: string): boolean {
  // hashing first gives equal lengths, so the compare is constant-time whatever was typed
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/** The monitor's router endpoints, or none without a password. */
export function monitorEndpoints(password: string | null): Record<string, Endpoint> {
  if (password === null) return {};
  const gate = basicAuth({
    realm: "Skirmish monitor",
    validate: (user: string, given: string) => sameSecret(user, MONITOR_USER) && sameSecret(given, password),
  });
  // spread: the monitor is an express-style middleware carrying its endpoints as properties
  return { ...monitor({ prefix: MONITOR_PATH, use: [gate] }) } as Record<string, Endpoint>;
}
