/**
 * An @colyseus/sdk Client whose rooms tell the bot what it measures about their connections: when
 * the WebSocket of a join or reconnect it asked for opened, and every frame that arrived (SDK
 * reconnects included). Only the SDK's extension points are used, nothing is replaced on an
 * object the SDK owns: `createRoom` (the Client's protected room factory) makes an ObservedRoom;
 * it overrides the public `connect` (then listens for the socket's `open` with the standard
 * `addEventListener`, beside the SDK's own handler) and the protected `onMessageCallback` (every
 * frame of the room's connection is dispatched through it, after a reconnect too).
 *
 * Errors: none of its own; an observer that throws throws out of the SDK's event dispatch, so
 * observers only count. Cancellation: nothing to cancel, the room's life is the SDK's.
 */
import { Client, Room } from "@colyseus/sdk";
import type { SchemaConstructor } from "@colyseus/sdk/serializer/SchemaSerializer";
import { WebSocketTransport } from "@colyseus/sdk/transport/WebSocketTransport";
import type { ConnectionObserver } from "./seat.ts";

class ObservedRoom<State> extends Room<any, State> {
  readonly #observer: ConnectionObserver;

  constructor(name: string, rootSchema: SchemaConstructor<State> | undefined, observer: ConnectionObserver) {
    super(name, rootSchema);
    this.#observer = observer;
  }

  override connect(endpoint: string, options?: any, headers?: any): void {
    super.connect(endpoint, options, headers);
    // the SDK's own reconnects open new sockets later, unobserved: only this open was asked for
    const transport = this.connection.transport;
    if (transport instanceof WebSocketTransport) {
      transport.ws.addEventListener("open", () => this.#observer.opened(), { once: true });
    }
  }

  protected override onMessageCallback(event: MessageEvent): void {
    this.#observer.received((event.data as ArrayBuffer).byteLength);
    super.onMessageCallback(event);
  }
}

export class ObservedClient extends Client {
  readonly #observer: ConnectionObserver;

  constructor(endpoint: string, observer: ConnectionObserver) {
    super(endpoint);
    this.#observer = observer;
  }

  protected override createRoom<T>(roomName: string, rootSchema?: SchemaConstructor<T>): Room<any, T> {
    return new ObservedRoom<T>(roomName, rootSchema, this.#observer);
  }
}
