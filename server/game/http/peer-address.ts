/**
 * The client address of a routed request. Routes see a web Request (Colyseus' router), which has
 * no socket: the node adapter (router-adapter.ts) records the socket's remote address here for the
 * routes that limit per address (monitor logins). Not a header, so a client cannot
 * claim another address; behind a reverse proxy every request is the proxy's.
 */
const peers = new WeakMap<Request, string>();

export function rememberPeer(request: Request, address: string | undefined): void {
  peers.set(request, address ?? "unknown");
}

/** The address the request came from; "unknown" for a request the adapter did not see. */
export function peerAddress(request: Request | undefined): string {
  return (request && peers.get(request)) ?? "unknown";
}
