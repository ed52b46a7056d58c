/**
 * Entry of the script-tag build served at `/_rum/beacon.js`. Configured by the tag's data
 * attributes: `data-endpoint` (default "/_rum/v1/beacon", same origin), `data-site` (default: the
 * site id the collector embeds when serving the file, see README), `data-sample` (0–1, default 1),
 * `data-consent="pending"` (send nothing until `window.rumConsent(true)`).
 */
import { startRum } from "./start-rum.ts";

/** Replaced by the build (and again by the collector when it serves the file). */
declare const __RUM_DEFAULT_SITE__: string;

declare global {
  interface Window {
    rumConsent?: (granted: boolean) => void;
  }
}

try {
  // Read synchronously: `currentScript` is only set while this script runs for the first time.
  const data = (document.currentScript as HTMLScriptElement | null)?.dataset || {};
  const sample = Number.parseFloat(data.sample || "1");
  window.rumConsent = startRum({
    endpoint: data.endpoint || "/_rum/v1/beacon",
    site: data.site || __RUM_DEFAULT_SITE__,
    sampleRate: sample >= 0 ? sample : 1,
    consent: data.consent === "pending" ? "pending" : "granted",
  }).consent;
} catch {
  // Never break the host page.
}
