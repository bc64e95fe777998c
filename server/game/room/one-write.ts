/**
 * `inOneWrite(clients, send)`: whatever `send` sends to these clients leaves in ONE socket write
 * per client. A round goes out as two Colyseus frames (the state patch, then the `round`
 * message); on their own they cost two write syscalls per client per round, and on loopback or
 * a LAN the syscall (and the TCP segment it makes the peer wake up for) is most of a frame's
 * cost. Corking each client's TCP socket around both sends makes Node hand the four buffers
 * (two frame headers, two payloads) to the kernel in one writev on uncork: same frames on the
 * wire, same order, half the writes (and one segment for the client to read).
 *
 * Reaches through Colyseus' WebSocketClient (`ref`, the ws WebSocket) to ws's socket (`_socket`,
 * internal): a client without one (another transport, a socket already gone) is simply not
 * corked and gets its frames in separate writes, as before. `send` throwing still uncorks.
 */
import type { Client } from "@colyseus/core";
import type { Socket } from "node:net";

function socketOf(client: Client): Socket | undefined {
  const socket = (client as { ref?: { _socket?: Socket | null } }).ref?._socket;
  return socket && !socket.destroyed ? socket : undefined;
}

export function inOneWrite(clients: Iterable<Client>, send: () => void): void {
  const corked: Socket[] = [];
  for (const client of clients) {
    const socket = socketOf(client);
    if (socket === undefined) continue;
    socket.cork();
    corked.push(socket);
  }
  try {
    send();
  } finally {
    for (const socket of corked) socket.uncork();
  }
}
