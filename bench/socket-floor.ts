/**
 * The load generator's floor, for bench:loadgen: `node bench/socket-floor.ts <ws url> <seats>`
 * takes that many thin seats (client-sim/thin/, guest tokens, joinOrCreate) and does with them
 * only the traffic a bot cannot avoid: each round message it receives is answered, 20-40 % of a
 * round later (on the bots' slot timer, client-sim/slot-timer.ts), by one constant `defend`
 * intent. No bot logic, no metrics, no scenario. What its
 * process's CPU per client-round comes to (printed as one JSON line after a fixed window, once
 * every seat has joined) is the socket, WebSocket and timer cost a thin bot stands on.
 */
import { Metrics } from "../client-sim/metrics.ts";
import { httpUrlOf } from "../client-sim/options.ts";
import type { Seat } from "../client-sim/seat.ts";
import { slotTimer } from "../client-sim/slot-timer.ts";
import { thinSeats } from "../client-sim/thin/thin-seats.ts";
import { Msg, type RoundMessage } from "../shared/protocol.ts";

export interface FloorResult {
  seats: number;
  clientRounds: number;
  usPerClientRound: number;
  systemUsPerClientRound: number;
  errors: number;
}

const JOIN_CONCURRENCY = 20;
const SETTLE_MS = 2_000;
const MEASURE_MS = 15_000;
const ROUND_MS = 500;

async function main(url: string, count: number): Promise<FloorResult> {
  const httpUrl = httpUrlOf(new URL(url));
  const metrics = new Metrics();
  const source = thinSeats(httpUrl, url, metrics, () => {})({ opened() {}, received() {} });
  let rounds = 0;
  const seats: Seat[] = [];
  const takeOne = async (): Promise<void> => {
    const res = await fetch(`${httpUrl}/auth/guest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const { token } = (await res.json()) as { token: string };
    const seat = await source.joinOrCreate(token, AbortSignal.timeout(30_000));
    let seq = 0;
    seat.listen({
      round(_msg: RoundMessage) {
        rounds++;
        slotTimer.after(ROUND_MS * (0.2 + 0.2 * Math.random()), () =>
          seat.send(Msg.intent, { seq: ++seq, action: "defend" }),
        );
      },
      error: () => metrics.error("refused"),
      unexpected() {},
      roomError: () => metrics.error("room_error"),
      dropped() {},
      reconnected() {},
      ended: () => metrics.error("ended"),
    });
    seats.push(seat);
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: JOIN_CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        await takeOne();
      }
    }),
  );
  await new Promise((done) => setTimeout(done, SETTLE_MS));
  const cpu0 = process.cpuUsage();
  const rounds0 = rounds;
  await new Promise((done) => setTimeout(done, MEASURE_MS));
  const cpu = process.cpuUsage(cpu0);
  const clientRounds = rounds - rounds0;
  for (const seat of seats) seat.close();
  return {
    seats: seats.length,
    clientRounds,
    usPerClientRound: (cpu.user + cpu.system) / Math.max(1, clientRounds),
    systemUsPerClientRound: cpu.system / Math.max(1, clientRounds),
    errors: Object.values(metrics.snapshot(false).errors).reduce((a, b) => a + b, 0),
  };
}

if (import.meta.main) {
  const [url, count] = process.argv.slice(2);
  process.stdout.write(JSON.stringify(await main(url, Number(count))) + "\n");
  process.exit(0);
}
