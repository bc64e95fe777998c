/**
 * The options of every entry point (game server, stats service, client-sim, replay, bench), each
 * declared once: flag, environment variable, type and range, default, help line. From that one
 * declaration come the parser (flag > environment variable > default), the `--help` text and the
 * README's configuration rows (a test keeps the README equal to them).
 *
 * It lives in shared/ because client-sim may import nothing else; shared/ holds no Node-only imports,
 * so the caller (always a Node entry point) passes in `parseArgs` from `node:util`, which does the
 * tokenizing (`--a v`, `--a=v`, `-h`, `--`).
 *
 * An environment variable set to the empty string is an error naming it, never read as "unset": a
 * deployment template that lost a value must fail loudly, not start on a default. Unset it instead.
 */

/** Bad usage: an unknown flag, a missing or out-of-range value. The message names the flag or variable. */
export class UsageError extends Error {}

export interface Option<T> {
  /** command-line name without the dashes */
  readonly flag: string;
  readonly env: string | undefined;
  readonly help: string;
  readonly default: T;
  /** the default as help and README show it */
  readonly defaultText: string;
  /** false for a switch (`--verbose`): present means true */
  readonly takesValue: boolean;
  /** what a value must look like, for help, README and errors: "an integer in [1, 1000]"; a switch's is its env values */
  readonly accepts: string;
  /** the value of `raw`, or undefined when `raw` is not acceptable */
  readonly parse: (raw: string) => T | undefined;
}

export type OptionTable = Readonly<Record<string, Option<unknown>>>;
export type OptionValues<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends Option<infer V> ? V : never;
};

interface Declaration<D> {
  /** command-line name without the dashes, spelled out (not derived from the key) so grep finds it */
  flag: string;
  env?: string;
  help: string;
  default: D;
  /** shown instead of the default value where the value alone would mislead ("random per process") */
  defaultText?: string;
}

function declare<T>(
  d: Declaration<T>,
  takesValue: boolean,
  accepts: string,
  parse: (raw: string) => T | undefined,
): Option<T> {
  const shown =
    d.defaultText ?? (d.default === null ? "none" : Array.isArray(d.default) ? d.default.join(",") : String(d.default));
  return { flag: d.flag, env: d.env, help: d.help, default: d.default, defaultText: shown, takesValue, accepts, parse };
}

function range(min: number, max: number): string {
  return max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
}

/** An integer in [min, max]; `words` are literal alternatives (`--rooms auto`), `default: null` makes it optional. */
export function integer<const D extends number | string | null>(
  d: Declaration<D> & { min: number; max: number; words?: readonly Extract<D, string>[] },
): Option<number | D> {
  const words = d.words ?? [];
  const accepts = `an integer ${range(d.min, d.max)}${words.map((w) => ` or ${w}`).join("")}`;
  return declare<number | D>(d, true, accepts, (raw) => {
    if ((words as readonly string[]).includes(raw)) return raw as D;
    const n = Number(raw);
    return raw.trim() !== "" && Number.isInteger(n) && n >= d.min && n <= d.max ? n : undefined;
  });
}

/** A finite number in [min, max]. */
export function decimal(d: Declaration<number> & { min: number; max: number }): Option<number> {
  return declare(d, true, `a number ${range(d.min, d.max)}`, (raw) => {
    const n = Number(raw);
    return raw.trim() !== "" && Number.isFinite(n) && n >= d.min && n <= d.max ? n : undefined;
  });
}

/** A non-empty string; `default: null` makes it optional. */
export function text<const D extends string | null>(d: Declaration<D>): Option<string | D> {
  return declare<string | D>(d, true, "a non-empty string", (raw) => (raw === "" ? undefined : raw));
}

/** One of `choices`. */
export function oneOf<const C extends string>(choices: readonly C[], d: Declaration<NoInfer<C>>): Option<C> {
  return declare(d, true, `one of ${choices.join(", ")}`, (raw) => choices.find((c) => c === raw));
}

/** A comma-separated subset of `choices`, in the order given. */
export function listOf<const C extends string>(
  choices: readonly C[],
  d: Declaration<readonly NoInfer<C>[]>,
): Option<readonly C[]> {
  return declare(d, true, `a comma-separated list of ${choices.join(", ")}`, (raw) => {
    const items = raw.split(",");
    return items.every((i) => (choices as readonly string[]).includes(i)) ? (items as C[]) : undefined;
  });
}

/** A comma-separated list of integers, each in [min, max]. */
export function integerList(
  d: Declaration<readonly number[]> & { min: number; max: number },
): Option<readonly number[]> {
  return declare(d, true, `a comma-separated list of integers ${range(d.min, d.max)}`, (raw) => {
    const items = raw.split(",").map((i) => (i.trim() === "" ? NaN : Number(i)));
    return items.every((n) => Number.isInteger(n) && n >= d.min && n <= d.max) ? items : undefined;
  });
}

function isOrigin(raw: string): boolean {
  try {
    const url = new URL(raw);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === raw;
  } catch {
    return false;
  }
}

/** A comma-separated list of web origins, each exactly `scheme://host[:port]` (as browsers send in `Origin`). */
export function originList(d: Declaration<readonly string[]>): Option<readonly string[]> {
  return declare(d, true, "a comma-separated list of origins (http[s]://host[:port])", (raw) => {
    const items = raw.split(",");
    return items.every(isOrigin) ? items : undefined;
  });
}

const TRUE = ["1", "true"];
const FALSE = ["0", "false"];
function bool(raw: string): boolean | undefined {
  return TRUE.includes(raw) ? true : FALSE.includes(raw) ? false : undefined;
}

/** true/false given as a value: `--stall 1`, `STATS_STALL=false`. */
export function boolean(d: Declaration<boolean>): Option<boolean> {
  return declare(d, true, "0, 1, true or false", bool);
}

/** A switch, false unless given: `--verbose` on the command line, 0/1/true/false in the environment. */
export function presence(d: Omit<Declaration<boolean>, "default">): Option<boolean> {
  return declare({ ...d, default: false }, false, "0, 1, true or false", bool);
}

export interface Command<T extends OptionTable> {
  /** "npm run sim -- [flags]" */
  readonly usage: string;
  /** paragraphs between the usage line and the options */
  readonly about?: readonly string[];
  /** paragraphs after the options */
  readonly notes?: readonly string[];
  readonly options: T;
  /** bare arguments, such as replay's journal file; none allowed when absent */
  readonly positionals?: { readonly name: string; readonly min: number; readonly max: number };
}

export interface CommandLine<T extends OptionTable> {
  /** `--help` or `-h` was given: `values` are then the defaults and nothing else was checked */
  help: boolean;
  values: OptionValues<T>;
  positionals: string[];
}

interface ArgToken {
  kind: "option" | "positional" | "option-terminator";
  name?: string;
  rawName?: string;
  value?: string;
  inlineValue?: boolean;
}

/** The shape of `node:util`'s `parseArgs` used here (tokens, nothing strict: errors are ours). */
export type ParseArgs = (config: {
  args: string[];
  options: Record<string, { type: "string" | "boolean"; short?: string }>;
  strict: false;
  allowPositionals: true;
  tokens: true;
}) => { tokens?: ArgToken[] };

export function defaultValues<T extends OptionTable>(options: T): OptionValues<T> {
  return Object.fromEntries(Object.entries(options).map(([k, o]) => [k, o.default])) as OptionValues<T>;
}

/**
 * Reads `argv` and `env` against `command`. Throws UsageError naming the flag or variable: unknown
 * flag, a value missing or given to a switch, a value out of range, an empty variable, a stray or
 * missing positional. A repeated flag: the last one counts.
 */
export function parseCommandLine<T extends OptionTable>(
  command: Command<T>,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  parseArgs: ParseArgs,
): CommandLine<T> {
  const byFlag = new Map(Object.entries(command.options).map(([key, o]) => [o.flag, { key, o }]));
  const spec: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const o of Object.values(command.options)) spec[o.flag] = { type: o.takesValue ? "string" : "boolean" };
  const { tokens = [] } = parseArgs({
    args: [...argv],
    options: spec,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  if (tokens.some((t) => t.kind === "option" && t.name === "help")) {
    return { help: true, values: defaultValues(command.options), positionals: [] };
  }
  const fromFlags = new Map<string, string>();
  const positionals: string[] = [];
  const allowed = command.positionals?.max ?? 0;
  for (const t of tokens) {
    if (t.kind === "positional") {
      if (positionals.length >= allowed)
        throw new UsageError(`unexpected argument ${JSON.stringify(t.value)} (try --help)`);
      positionals.push(t.value!);
    }
    if (t.kind !== "option") continue;
    const found = byFlag.get(t.name!);
    if (!found) throw new UsageError(`unknown flag ${t.rawName} (try --help)`);
    const { key, o } = found;
    if (!o.takesValue) {
      if (t.value !== undefined) throw new UsageError(`--${o.flag} takes no value`);
      fromFlags.set(key, "true");
    } else {
      // `--bots --verbose`: parseArgs (not strict) would take the next flag as the value
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith("--")))
        throw new UsageError(`--${o.flag} needs a value`);
      fromFlags.set(key, t.value);
    }
  }
  const wanted = command.positionals;
  if (wanted && positionals.length < wanted.min) throw new UsageError(`missing <${wanted.name}> (try --help)`);

  const values: Record<string, unknown> = {};
  for (const [key, o] of Object.entries(command.options)) {
    const flagged = fromFlags.get(key);
    const fromEnv = o.env === undefined ? undefined : env[o.env];
    const label = flagged !== undefined ? `--${o.flag}` : `${o.env} (--${o.flag})`;
    if (flagged === undefined && fromEnv === "") {
      throw new UsageError(`${label}: set but empty; unset it to use the default (${o.defaultText})`);
    }
    const raw = flagged ?? fromEnv;
    if (raw === undefined) {
      values[key] = o.default;
      continue;
    }
    const value = o.parse(raw);
    if (value === undefined) throw new UsageError(`${label}: expected ${o.accepts}, got ${JSON.stringify(raw)}`);
    values[key] = value;
  }
  return { help: false, values: values as OptionValues<T>, positionals };
}

/** The `--help` text: usage, about, one line per option (flag, variable, accepted values, default), notes. */
export function renderHelp(command: Command<OptionTable>): string {
  const options = Object.values(command.options);
  const left = (o: Option<unknown>) => (o.takesValue ? `--${o.flag} <value>` : `--${o.flag}`);
  const w1 = Math.max(12, ...options.map((o) => left(o).length)) + 2;
  const w2 = options.some((o) => o.env) ? Math.max(7, ...options.map((o) => (o.env ?? "").length)) + 2 : 0;
  const rows = options.map((o) => {
    const what = o.takesValue ? `${o.help}; ${o.accepts} (default: ${o.defaultText})` : o.help;
    return `  ${left(o).padEnd(w1)}${(o.env ?? "").padEnd(w2)}${what}`;
  });
  const block = (lines: readonly string[] | undefined) => (lines?.length ? [...lines, ""] : []);
  return [
    `usage: ${command.usage}`,
    "",
    ...block(command.about),
    `  ${"flag".padEnd(w1)}${(w2 ? "env var" : "").padEnd(w2)}meaning`,
    ...rows,
    `  ${"--help, -h".padEnd(w1 + w2)}this text`,
    "",
    ...block(command.notes),
  ].join("\n");
}

/**
 * Markdown rows of the README's configuration table for several entry points at once, one row per
 * environment variable (per flag where there is none): an option several entry points read (the
 * stats token) is one row naming all of them and each of their flags.
 */
export function configurationTable(commands: readonly { name: string; command: Command<OptionTable> }[]): string {
  const rows = new Map<string, { o: Option<unknown>; flags: string[]; by: string[] }>();
  for (const { name, command } of commands) {
    for (const o of Object.values(command.options)) {
      const row = rows.get(o.env ?? `--${o.flag}`) ?? { o, flags: [], by: [] };
      if (!row.flags.includes(o.flag)) row.flags.push(o.flag);
      row.by.push(name);
      rows.set(o.env ?? `--${o.flag}`, row);
    }
  }
  const cell = (s: string) => s.replaceAll("|", "\\|");
  const withEnv = [...rows.values()].some((r) => r.o.env);
  const columns = [
    ...(withEnv ? ["variable"] : []),
    "flag",
    "default",
    "accepts",
    ...(commands.length > 1 ? ["used by"] : []),
    "meaning",
  ];
  const lines = [...rows.values()].map(({ o, flags, by }) => {
    const cells = [
      ...(withEnv ? [o.env ? `\`${o.env}\`` : ""] : []),
      flags.map((f) => `\`--${f}\``).join(", "),
      cell(o.defaultText),
      o.takesValue ? cell(o.accepts) : "switch",
      ...(commands.length > 1 ? [by.join(", ")] : []),
      cell(o.help),
    ];
    return `| ${cells.join(" | ")} |`;
  });
  return [`| ${columns.join(" | ")} |`, `| ${columns.map(() => "---").join(" | ")} |`, ...lines].join("\n");
}
