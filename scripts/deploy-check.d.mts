/** Types of scripts/deploy-check.mjs (the offline deploy preflight). */
export type DeployCheckOptions = {
  env: string;
  config: string;
  secretsFile: string | null;
  maxGzipMib: number;
  startupRuns: number;
  skipBundle: boolean;
};
/** Parses the command line (throws naming an unknown option or a bad value). */
export function parseArgs(argv: string[]): DeployCheckOptions;
/** Runs the preflight, logging each line; resolves to 0 (deployable), 1 (problems) or 2 (could not check). */
export function main(argv?: string[], cwd?: string, log?: (line: string) => void): Promise<number>;
/** wrangler's `✘ [ERROR]` lines (with their source locations) as one line. */
export function wranglerErrors(output: string): string;
