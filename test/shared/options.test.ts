// The one option table form of every entry point: precedence, empty variables, errors naming the
// flag or variable and the range, switches, positionals, generated --help.
import { parseArgs } from "node:util";
import { describe, expect, it } from "vitest";
import {
  boolean,
  decimal,
  integer,
  listOf,
  oneOf,
  originList,
  parseCommandLine,
  presence,
  renderHelp,
  text,
  UsageError,
  type Command,
} from "../../shared/options.ts";

const options = {
  port: integer({ flag: "port", env: "T_PORT", min: 0, max: 65535, default: 2567, help: "port" }),
  rooms: integer({ flag: "rooms", min: 1, max: 9, words: ["auto"], default: "auto", help: "rooms" }),
  rate: decimal({ flag: "rate", env: "T_RATE", min: 0, max: 1, default: 0.5, help: "rate" }),
  name: text({ flag: "name", env: "T_NAME", default: "n", help: "name" }),
  secret: text({ flag: "secret", env: "T_SECRET", default: null, defaultText: "random", help: "secret" }),
  level: oneOf(["a", "b"], { flag: "level", env: "T_LEVEL", default: "a", help: "level" }),
  only: listOf(["x", "y", "z"], { flag: "only", default: ["x", "y", "z"], help: "subset" }),
  stall: boolean({ flag: "stall", env: "T_STALL", default: false, help: "stall" }),
  verbose: presence({ flag: "verbose", env: "T_VERBOSE", help: "verbose" }),
};
const command: Command<typeof options> = {
  usage: "t [flags] <file>",
  options,
  positionals: { name: "file", min: 0, max: 1 },
};
const parse = (argv: string[], env: Record<string, string | undefined> = {}) =>
  parseCommandLine(command, argv, env, parseArgs);

describe("parseCommandLine", () => {
  it("takes a flag over its variable over the default, both --flag v and --flag=v; the last repeat wins", () => {
    expect(parse([]).values).toEqual({
      port: 2567,
      rooms: "auto",
      rate: 0.5,
      name: "n",
      secret: null,
      level: "a",
      only: ["x", "y", "z"],
      stall: false,
      verbose: false,
    });
    const env = {
      T_PORT: "7",
      T_RATE: "0.25",
      T_NAME: "env",
      T_SECRET: "s",
      T_LEVEL: "b",
      T_STALL: "1",
      T_VERBOSE: "true",
    };
    expect(parse([], env).values).toMatchObject({
      port: 7,
      rate: 0.25,
      name: "env",
      secret: "s",
      level: "b",
      stall: true,
      verbose: true,
    });
    const flagged = parse(
      ["--port=8", "--rate", "1", "--name", "flag", "--stall", "false", "--rooms", "3", "--only", "z,x", "--port", "9"],
      env,
    ).values;
    expect(flagged).toMatchObject({
      port: 9,
      rate: 1,
      name: "flag",
      stall: false,
      rooms: 3,
      only: ["z", "x"],
      secret: "s",
    });
    expect(parse(["--verbose"]).values.verbose).toBe(true);
    expect(parse(["journal.db", "--port", "1"]).positionals).toEqual(["journal.db"]);
  });

  it("refuses an empty variable by name (unset means default; empty is a mistake), but not an unset one", () => {
    expect(() => parse([], { T_PORT: "" })).toThrow(
      "T_PORT (--port): set but empty; unset it to use the default (2567)",
    );
    expect(() => parse([], { T_SECRET: "" })).toThrow(
      "T_SECRET (--secret): set but empty; unset it to use the default (random)",
    );
    expect(parse([], { T_PORT: undefined }).values.port).toBe(2567);
    // a flag given wins before the variable is looked at
    expect(parse(["--port", "3"], { T_PORT: "" }).values.port).toBe(3);
  });

  it.each([
    [["--port", "70000"], {}, '--port: expected an integer in [0, 65535], got "70000"'],
    [["--port", "1.5"], {}, "--port: expected an integer in [0, 65535]"],
    [[], { T_PORT: "x" }, 'T_PORT (--port): expected an integer in [0, 65535], got "x"'],
    [["--rooms", "many"], {}, "--rooms: expected an integer in [1, 9] or auto"],
    [["--rate", "2"], {}, "--rate: expected a number in [0, 1]"],
    [[], { T_RATE: "NaN" }, "T_RATE (--rate): expected a number in [0, 1]"],
    [["--name="], {}, '--name: expected a non-empty string, got ""'],
    [["--level", "c"], {}, "--level: expected one of a, b"],
    [["--only", "x,w"], {}, "--only: expected a comma-separated list of x, y, z"],
    [["--stall", "maybe"], {}, "--stall: expected 0, 1, true or false"],
    [[], { T_VERBOSE: "yes" }, "T_VERBOSE (--verbose): expected 0, 1, true or false"],
    [["--verbose=1"], {}, "--verbose takes no value"],
    [["--port"], {}, "--port needs a value"],
    [["--only"], {}, "--only needs a value"],
    [["--port", "--verbose"], {}, "--port needs a value"],
    [["--bogus", "1"], {}, "unknown flag --bogus (try --help)"],
    [["-x"], {}, "unknown flag -x (try --help)"],
    [["a", "b"], {}, 'unexpected argument "b" (try --help)'],
  ] as [string[], Record<string, string>, string][])("refuses %j %j", (argv, env, message) => {
    expect(() => parse(argv, env)).toThrow(UsageError);
    expect(() => parse(argv, env)).toThrow(message);
  });

  it("requires positionals it declares, refuses them where none are declared", () => {
    const required: Command<typeof options> = { ...command, positionals: { name: "file", min: 1, max: 1 } };
    expect(() => parseCommandLine(required, [], {}, parseArgs)).toThrow("missing <file> (try --help)");
    expect(() => parseCommandLine({ usage: "u", options }, ["stray"], {}, parseArgs)).toThrow(
      'unexpected argument "stray"',
    );
  });

  it("--help or -h wins over everything else and returns the defaults unchecked", () => {
    for (const argv of [["--help"], ["-h"], ["--port", "99999", "--help"], ["--bogus", "-h"]]) {
      const line = parse(argv, { T_PORT: "" });
      expect(line.help).toBe(true);
      expect(line.values.port).toBe(2567);
    }
  });

  it("generates --help from the declarations: every flag, variable, range and default", () => {
    const help = renderHelp(command);
    expect(help.startsWith("usage: t [flags] <file>\n")).toBe(true);
    for (const o of Object.values(options)) {
      const row = help.split("\n").find((l) => l.trimStart().startsWith(`--${o.flag} `) || l.trim() === `--${o.flag}`);
      expect(row, o.flag).toBeDefined();
      if (o.env) expect(row).toContain(o.env);
      expect(row).toContain(o.help);
      if (o.takesValue) expect(row).toContain(`${o.accepts} (default: ${o.defaultText})`);
    }
    expect(help).toContain("(default: random)");
    expect(help).toContain("(default: x,y,z)");
    expect(help).toContain("--help, -h");
  });
});

describe("originList", () => {
  const origins = { sites: originList({ flag: "sites", env: "T_SITES", default: [], help: "sites" }) };
  const parseSites = (env: Record<string, string>) =>
    parseCommandLine({ usage: "t", options: origins }, [], env, parseArgs).values.sites;

  it("takes exact origins, as a browser sends them, and refuses anything with a path, a wildcard or another scheme", () => {
    expect(parseSites({})).toEqual([]);
    expect(parseSites({ T_SITES: "https://game.example,http://localhost:8080" })).toEqual([
      "https://game.example",
      "http://localhost:8080",
    ]);
    for (const bad of [
      "*",
      "https://game.example/",
      "game.example",
      "ftp://x.example",
      "https://a.example, https://b.example",
    ])
      expect(() => parseSites({ T_SITES: bad }), bad).toThrow(/T_SITES.*origins/);
  });
});
