/**
 * Which player is in which arena, process-wide: a player id may be in one arena at a time. A
 * seat held for a reconnection still counts (the entity is still in the arena).
 */
export class PlayerRegistry {
  private readonly roomOf = new Map<string, string>();

  /** The room holding this player, if any. */
  where(playerId: string): string | undefined {
    return this.roomOf.get(playerId);
  }

  /** Claims the player for a room; false if another seat (any room) already holds it. */
  claim(playerId: string, roomId: string): boolean {
    if (this.roomOf.has(playerId)) return false;
    this.roomOf.set(playerId, roomId);
    return true;
  }

  release(playerId: string, roomId: string): void {
    if (this.roomOf.get(playerId) === roomId) this.roomOf.delete(playerId);
  }
}
