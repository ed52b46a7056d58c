/**
 * npm entry point for sites that do not route through the edge:
 * `import { startRum } from "@edge-rum/rum-collector/beacon"`.
 */
export { type RumHandle, type RumOptions, startRum } from "./start-rum.ts";
