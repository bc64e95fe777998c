/**
 * The arena list on the pages: GET /rooms, one line per live arena with a link to watch it and a
 * link to its replay. A failed fetch is shown in the list, not thrown.
 */
import type { RoomSummary } from "../shared/lobby.ts";

export async function loadRooms(list: HTMLElement): Promise<void> {
  let rooms: RoomSummary[];
  try {
    const res = await fetch("/rooms");
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    rooms = ((await res.json()) as { rooms: RoomSummary[] }).rooms;
  } catch (err) {
    list.textContent = `could not list arenas: ${(err as Error).message}`;
    return;
  }
  if (rooms.length === 0) {
    list.textContent = "no arena is running";
    return;
  }
  list.replaceChildren(
    ...rooms.map((r) => {
      const li = document.createElement("li");
      const watch = document.createElement("a");
      watch.href = `/?watch=${encodeURIComponent(r.roomId)}`;
      watch.textContent = `watch ${r.roomId}`;
      const replay = document.createElement("a");
      replay.href = `/replay.html?room=${encodeURIComponent(r.roomId)}`;
      replay.textContent = "replay";
      li.append(watch, ` · ${r.players} player${r.players === 1 ? "" : "s"}, ${r.spectators} watching · `, replay);
      return li;
    }),
  );
}
