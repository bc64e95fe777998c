/**
 * "A player id holds one seat at a time": which player sits in which arena. A seat held for a
 * reconnection still counts (the entity is still in the arena). One process keeps it in memory
 * (LocalPlayerRegistry); a cluster keeps it in Redis, owned by the process id
 * (redis-player-registry.ts).
 */
export interface PlayerRegistry {
  /** Where the player already sits (a room, or a room on another process), if anywhere. Rejects when the registry is unreachable. */
  where(playerId: string): Promise<string | undefined>;
  /** Claims the player's one seat for a room of this process; false if a seat elsewhere holds it. Rejects when the registry is unreachable. */
  claim(playerId: string, roomId: string): Promise<boolean>;
  /** Takes the seat for a restored room: free, or held for the same room by the process that had it before. Rejects when the registry is unreachable. */
  adopt(playerId: string, roomId: string): Promise<boolean>;
  /** Gives the seat up. Never throws: a failed release is counted, logged and repaired later. */
  release(playerId: string, roomId: string): void;
}

export class LocalPlayerRegistry implements PlayerRegistry {
  private readonly roomOf = new Map<string, string>();

  async where(playerId: string): Promise<string | undefined> {
    return this.roomOf.get(playerId);
  }

  async claim(playerId: string, roomId: string): Promise<boolean> {
    if (this.roomOf.has(playerId)) return false;
    this.roomOf.set(playerId, roomId);
    return true;
  }

  async adopt(playerId: string, roomId: string): Promise<boolean> {
    const held = this.roomOf.get(playerId);
    if (held !== undefined && held !== roomId) return false;
    this.roomOf.set(playerId, roomId);
    return true;
  }

  release(playerId: string, roomId: string): void {
    if (this.roomOf.get(playerId) === roomId) this.roomOf.delete(playerId);
  }
}
