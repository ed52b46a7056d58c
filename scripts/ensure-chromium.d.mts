/** Types of scripts/ensure-chromium.mjs (installs Chromium for the browser tests when it is missing). */
export const CHROMIUM_PATH: string;
/** Launch flags for headless Chromium in the tests and the lab (no sandbox, no background traffic). */
export const QUIET_CHROMIUM_ARGS: readonly string[];
export type EnsureChromiumOptions = {
  path?: string;
  exists?: (path: string) => boolean;
  run?: (cmd: string, args: string[], env: Record<string, string>) => number;
  has?: (cmd: string) => boolean;
  isRoot?: () => boolean;
  canSudo?: () => boolean;
  log?: (line: string) => void;
};
export function ensureChromium(opts?: EnsureChromiumOptions): "present" | "installed";
