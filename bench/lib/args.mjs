/**
 * `--name N` options of the bench scripts that take a positive integer:
 * `numberOption(args)("beacons", 5000)` is the integer after `--beacons`, the default when the
 * option is absent, and an error naming the option for anything else.
 */
export function numberOption(args) {
  return (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    if (i === -1) return dflt;
    const n = Number(args[i + 1]);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`Invalid option --${name}: expected a positive integer (got "${args[i + 1]}")`);
    return n;
  };
}
