/**
 * Who took part in each room of this process: its players and spectators, by player id, added as
 * they join. The replay route lets them read the room's journaled rounds (unless REPLAY_PUBLIC=1
 * lets anyone). In memory, at most `maxMembers` ids (the rooms first joined go first), so after a
 * restart the rooms from before it are readable only with REPLAY_PUBLIC=1 or `npm run replay`.
 */
export class RoomAudience {
  private readonly rooms = new Map<string, Set<string>>();
  private members = 0;
  private readonly maxMembers: number;

  constructor(maxMembers = 100_000) {
    this.maxMembers = maxMembers;
  }

  add(room: string, pid: string): void {
    let members = this.rooms.get(room);
    if (members === undefined) {
      members = new Set();
      this.rooms.set(room, members);
    }
    if (members.has(pid)) return;
    members.add(pid);
    this.members++;
    while (this.members > this.maxMembers) {
      const [oldest, ids] = this.rooms.entries().next().value!;
      this.rooms.delete(oldest);
      this.members -= ids.size;
    }
  }

  has(room: string, pid: string): boolean {
    return this.rooms.get(room)?.has(pid) === true;
  }
}
