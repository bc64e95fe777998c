/** The scenarios --scenario can name. */
import type { Scenario } from "../scenario.ts";
import { aggressive } from "./aggressive.ts";
import { garbage } from "./garbage.ts";
import { passive } from "./passive.ts";
import { reconnectStorm } from "./reconnect-storm.ts";

export const SCENARIOS = {
  aggressive,
  passive,
  "reconnect-storm": reconnectStorm,
  garbage,
} as const satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];
