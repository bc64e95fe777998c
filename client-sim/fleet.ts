/**
 * Runs a share of the bots in this process: starts them evenly over the ramp (by their global
 * index, so several processes interleave), reports a snapshot every second, stops them all at the
 * end of the run and returns the final snapshot. `steady` (decided by client-sim's main:
 * steady-state.ts) says which intents and rounds count as steady state. Each bot's life is a
 * coroutine in the fleet's Scope; stopping is halting that scope, bounded by the runtime's
 * `timeout()`.
 */
import { Bot } from "./bot.ts";
import { run, Scope, timeout, TimeoutError, until } from "../server/runtime/index.ts";
import { captureConsole, createLog } from "./log.ts";
import { Metrics, type MetricsSnapshot } from "./metrics.ts";
import { autoRooms, fixedRooms } from "./room-plan.ts";
import { SCENARIOS, type ScenarioName } from "./scenarios/index.ts";
import { sdkSeats } from "./sdk-seat.ts";
import type { ClientKind } from "./seat.ts";
import { SteadyCpu } from "./steady-cpu.ts";
import type { SteadyState } from "./steady-state.ts";
import { thinSeats } from "./thin/thin-seats.ts";

export interface FleetPlan {
  /** global indices of the bots this process runs */
  indices: number[];
  /** bots across all processes (spaces the ramp) */
  totalBots: number;
  /** epoch ms at which the ramp starts, common to all processes */
  startAt: number;
  rampS: number;
  durationS: number;
  seed: number;
  url: string;
  httpUrl: string;
  scenario: ScenarioName;
  rooms: "auto" | number;
  client: ClientKind;
}

const TICK_MS = 1_000;
/** bots still closing after this are left to the hard stop */
const STOP_BUDGET_MS = 5_000;

/** Which of `workers` processes runs bot `index`: a fixed room's bots stay in one process. */
export function workerOf(index: number, workers: number, rooms: "auto" | number): number {
  return (rooms === "auto" ? index : index % rooms) % workers;
}

/** `source` names this process in --verbose logs; the SDK's console output is routed there too. */
export async function runFleet(
  plan: FleetPlan,
  verbose: boolean,
  source: string,
  onTick: (snap: MetricsSnapshot) => void,
  steady: SteadyState,
): Promise<MetricsSnapshot> {
  const metrics = new Metrics();
  const log = createLog(verbose, source);
  captureConsole(log, () => metrics.counters.sdkLogLines++);
  const rooms = plan.rooms === "auto" ? autoRooms() : fixedRooms(plan.rooms);
  const scenario = SCENARIOS[plan.scenario];
  const seats = plan.client === "thin" ? thinSeats(plan.httpUrl, plan.url, metrics, log) : sdkSeats(plan.url);
  const fleet = new Scope({
    name: source,
    onError: (err, task) => {
      metrics.error("bot:crashed");
      log("bot_crashed", { bot: task.name, error: String(err) });
    },
  });
  const starters: ReturnType<typeof setTimeout>[] = [];
  for (const index of plan.indices) {
    const at = plan.startAt + (index / plan.totalBots) * plan.rampS * 1000;
    starters.push(
      setTimeout(
        () => {
          const bot = new Bot({
            index,
            httpUrl: plan.httpUrl,
            seats,
            seed: plan.seed,
            scenario,
            rooms,
            metrics,
            log,
            steady,
          });
          fleet.run(() => bot.life(), { name: `bot-${index}` });
        },
        Math.max(0, at - Date.now()),
      ),
    );
  }
  const cpu = new SteadyCpu(() => metrics.counters.roundsReceived);
  const ticker = setInterval(() => {
    onTick(metrics.snapshot(false));
    cpu.watch(steady);
  }, TICK_MS);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, plan.startAt + plan.durationS * 1000 - Date.now())));
  const botCpu = cpu.end();
  for (const s of starters) clearTimeout(s);
  clearInterval(ticker);
  try {
    await run(() => timeout(STOP_BUDGET_MS, until(fleet.halt())), { name: `${source}:stop` });
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
  }
  return { ...metrics.snapshot(true), cpu: botCpu };
}
