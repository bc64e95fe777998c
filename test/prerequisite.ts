/**
 * The one rule for a suite that needs something of the machine (a binary, /proc): when it is
 * here, the suite runs; when it is not, one line says what is missing and which package brings
 * it, and the suite is skipped; under CI (process.env.CI) a missing prerequisite throws: nothing
 * skips there.
 */
export function prerequisite(present: boolean, missing: string): boolean {
  if (present) return true;
  if (process.env.CI) throw new Error(`CI: ${missing}`);
  process.stdout.write(`skipped: ${missing}\n`);
  return false;
}
