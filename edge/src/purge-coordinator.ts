/**
 * The single writer of the purge document in KV (`edge:purges`, purge-state.ts). KV has no
 * compare-and-swap, so two isolates that each read, merge and write the document at the same
 * instant can lose one purge for every other location. Every edge isolate instead sends its purge
 * to this one Durable Object (binding PURGE_COORDINATOR, one instance by name), which keeps the
 * document in its own storage, merges one purge at a time and writes the result to KV: a purge
 * accepted by `/_edge/purge` is in the document the other locations read.
 *
 * Plain `fetch` interface (no `cloudflare:workers` import), so the bundle still evaluates outside
 * workerd (the deploy check measures its start-up in Node).
 */
import {
  mergePurge,
  PURGE_STATE_KEY,
  type PurgeDoc,
  type PurgeRecord,
  type PurgeWriter,
} from "./purge-state.ts";

const DOC = "doc";
const RECORD_URL = "https://purge-coordinator.internal/record";

function isRecord(x: unknown): x is { p: PurgeRecord; now: number } {
  if (typeof x !== "object" || x === null) return false;
  const { p, now } = x as { p?: unknown; now?: unknown };
  if (typeof now !== "number" || !Number.isFinite(now) || typeof p !== "object" || p === null) return false;
  const { all, urls, tags } = p as Record<string, unknown>;
  const strings = (v: unknown) =>
    v === undefined || (Array.isArray(v) && v.every((s) => typeof s === "string"));
  return (all === undefined || typeof all === "boolean") && strings(urls) && strings(tags);
}

export class PurgeCoordinator {
  private readonly state: DurableObjectState;
  private readonly env: Env;

  constructor(state: DurableObjectState, env: Env) {
    this.state = state;
    this.env = env;
  }

  /** `POST /record` with `{p, now}`: merges the purge, writes the document to KV, answers it. */
  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST" || new URL(request.url).pathname !== "/record")
      return Response.json({ error: "POST /record only" }, { status: 404 });
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      body = null;
    }
    if (!isRecord(body))
      return Response.json({ error: "body must be {p: {all?, urls?, tags?}, now}" }, { status: 400 });
    return Response.json(await this.record(body.p, body.now));
  }

  /** Merges `p` (at `now`) into the document, writes it to KV and answers it; one at a time. */
  record(p: PurgeRecord, now: number): Promise<PurgeDoc> {
    return this.state.blockConcurrencyWhile(async () => {
      const kv = this.env.EDGE_KV ?? null;
      let doc = (await this.state.storage.get<PurgeDoc>(DOC)) ?? null;
      // First use: adopt what KV holds (purges written before the coordinator existed).
      if (doc === null && kv !== null) doc = await kv.get<PurgeDoc>(PURGE_STATE_KEY, "json");
      const next = mergePurge(doc, p, now);
      await this.state.storage.put(DOC, next);
      if (kv !== null) await kv.put(PURGE_STATE_KEY, JSON.stringify(next));
      return next;
    });
  }
}

/** The coordinator of this deployment (binding PURGE_COORDINATOR), or null when it is not bound. */
export function purgeWriterFromEnv(env: Env): PurgeWriter | null {
  const ns = (env as { PURGE_COORDINATOR?: DurableObjectNamespace }).PURGE_COORDINATOR;
  if (ns === undefined) return null;
  const id = ns.idFromName("edge:purges");
  return {
    async record(p, now) {
      // A stub is an I/O object of the request that made it: one per call, not one per isolate.
      const stub = ns.get(id);
      const res = await stub.fetch(RECORD_URL, { method: "POST", body: JSON.stringify({ p, now }) });
      if (!res.ok) throw new Error(`purge coordinator answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as PurgeDoc;
    },
  };
}
