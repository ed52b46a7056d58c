import { existsSync } from "node:fs";

/** Fails fast with a clear message when the browser the e2e tests drive is missing. */
export default function setup(): void {
  if (!existsSync("/usr/bin/chromium")) throw new Error("e2e needs Chromium at /usr/bin/chromium");
}
