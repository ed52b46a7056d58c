/**
 * The Cloudflare zone purge API (`POST /zones/{zone_id}/purge_cache`), called after a purge when
 * EDGE_PURGE_ZONE_ID and EDGE_PURGE_API_TOKEN are set, so the CDN cache in front of the Worker
 * drops the same objects. Files and tags go in batches of ZONE_PURGE_BATCH. A failure is logged,
 * never thrown: the purge times in KV already apply.
 */
import type { Edge } from "./edge.ts";

export const ZONE_PURGE_API = "https://api.cloudflare.com/client/v4/zones";
/** Items per purge_cache call (the API's per-request limit for files and tags). */
export const ZONE_PURGE_BATCH = 30;

type Body = { files: string[] } | { tags: readonly string[] } | { purge_everything: true };

async function call(edge: Edge, body: Body): Promise<void> {
  const z = edge.config.zonePurge;
  if (z === null) return;
  try {
    const res = await edge.doFetch(
      new Request(`${ZONE_PURGE_API}/${z.zoneId}/purge_cache`, {
        method: "POST",
        headers: { authorization: `Bearer ${z.apiToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    if (!res.ok) console.warn(`edge purge: zone purge API answered ${res.status}`);
    await res.body?.cancel();
  } catch (e) {
    console.warn(`edge purge: zone purge API failed (${String(e)})`);
  }
}

/** Sends one purge to the zone purge API, batched. */
export async function zonePurge(edge: Edge, body: Body): Promise<void> {
  if (edge.config.zonePurge === null) return;
  if ("purge_everything" in body) return call(edge, body);
  const items = "files" in body ? body.files : body.tags;
  for (let i = 0; i < items.length; i += ZONE_PURGE_BATCH) {
    const chunk = items.slice(i, i + ZONE_PURGE_BATCH);
    await call(edge, "files" in body ? { files: chunk } : { tags: chunk });
  }
}
