/**
 * Entry of the script-tag build served at `/_rum/beacon.js`. Configured by the tag's data
 * attributes: `data-endpoint` (default "/_rum/v1/beacon", same origin), `data-site` (default: the
 * site id the collector embeds when serving the file, see README), `data-sample` (0–1, default 1),
 * `data-consent="pending"` (send nothing until `window.rumConsent(true)`), `data-prefetch-arms`
 * (prefetch arm shares, e.g. "holdout:0.1,ours:0.8,press:0.1"; else `window.rumPrefetchArms`,
 * else the shares the collector embeds when serving the file, `RUM_PREFETCH_ARMS`).
 * Exposes `window.rum.conversion(value?)`; calls made before the script ran, through the stub
 * `window.rum = window.rum || { q: [], conversion(v) { this.q.push(v) } }`, are replayed.
 */
import { type RumHandle, startRum } from "./start-rum.ts";

/** Replaced by the build (and again by the collector when it serves the file). */
declare const __RUM_DEFAULT_SITE__: string;
/** Replaced like the site: the collector's default prefetch arm shares ("" = none). */
declare const __RUM_DEFAULT_ARMS__: string;

declare global {
  interface Window {
    rumConsent?: (granted: boolean) => void;
    rumPrefetchArms?: string;
    rum?: { q?: unknown[]; conversion(value?: number): void };
  }
}

try {
  // Read synchronously: `currentScript` is only set while this script runs for the first time.
  const data = (document.currentScript as HTMLScriptElement | null)?.dataset || {};
  const sample = Number.parseFloat(data.sample || "1");
  const rum: RumHandle = startRum({
    endpoint: data.endpoint || "/_rum/v1/beacon",
    site: data.site || __RUM_DEFAULT_SITE__,
    sampleRate: sample >= 0 ? sample : 1,
    consent: data.consent === "pending" ? "pending" : "granted",
    prefetchArms: data.prefetchArms || window.rumPrefetchArms || __RUM_DEFAULT_ARMS__,
  });
  window.rumConsent = rum.consent;
  const queued = window.rum?.q;
  window.rum = rum;
  if (Array.isArray(queued)) for (const v of queued) rum.conversion(v as number);
} catch {
  // Never break the host page.
}
