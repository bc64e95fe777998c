/**
 * The options of a benchmark entry point, read once from this process: its flags and environment
 * (flag > variable > default, shared/options.ts). `--help` prints the generated help and exits 0; a
 * bad flag or variable prints the error naming it and exits 2, before anything starts. `npm run
 * bench` reads each benchmark's options with no flags (`argv` empty): their variables still apply.
 */
import { parseArgs } from "node:util";
import {
  parseCommandLine,
  renderHelp,
  UsageError,
  type Command,
  type OptionTable,
  type OptionValues,
} from "../shared/options.ts";

export function readCommandLine<T extends OptionTable>(
  command: Command<T>,
  argv: readonly string[] = process.argv.slice(2),
): OptionValues<T> {
  try {
    const line = parseCommandLine(command, argv, process.env, parseArgs);
    if (!line.help) return line.values;
    process.stdout.write(renderHelp(command));
    process.exit(0);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
