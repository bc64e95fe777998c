/**
 * The client address of a routed request. Routes see a web Request (Colyseus' router), which has
 * no socket: the node adapter (router-adapter.ts) records the address client-address.ts finds
 * for it (the socket's peer, or behind TRUST_PROXY proxies their X-Forwarded-For entry) for the
 * routes that limit per address (monitor logins). Kept beside the request, not in a header a
 * client could write.
 */
import { UNKNOWN_ADDRESS } from "./client-address.ts";

const peers = new WeakMap<Request, string>();

export function rememberPeer(request: Request, address: string): void {
  peers.set(request, address);
}

/** The address the request came from; UNKNOWN_ADDRESS for a request the adapter did not see. */
export function peerAddress(request: Request | undefined): string {
  return (request && peers.get(request)) ?? UNKNOWN_ADDRESS;
}
