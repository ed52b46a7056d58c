/**
 * The `rum-events` queue message codec, both sides in one module: `packNdjson` (encoder: a batch
 * of records as one NDJSON text message; the intake, the image log and the edge's page-view log
 * send this) and `readMessageBody` (decoder: NDJSON text or one record object → the valid records,
 * the edge's columnar batches expanded, malformed lines counted). Pure.
 */
import { expandEdgeLogBatch } from "./edge-log-batch.ts";
import type { RumQueueMessage } from "./rum-types.ts";

/**
 * One queue message for a whole batch: the messages' JSON texts as NDJSON (JSON.stringify never
 * emits a raw newline, so lines cannot be confused). Queues bill and deliver per message; one
 * NDJSON message per batch is one write for up to a few hundred records.
 */
export function packNdjson(jsonTexts: readonly string[]): { body: string; contentType: "text" } {
  return { body: jsonTexts.join("\n"), contentType: "text" };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}

/** Structural check of an image message (a foreign producer must not poison the rollups). */
export function isImageLogMessage(x: Record<string, unknown>): boolean {
  const nullableNumber = (v: unknown) => v === null || v === undefined || typeof v === "number";
  return (
    x.kind === "image" &&
    typeof x.rid === "string" &&
    x.rid !== "" &&
    typeof x.format === "string" &&
    typeof x.device === "string" &&
    typeof x.cacheStatus === "string" &&
    typeof x.fallback === "boolean" &&
    nullableNumber(x.originalBytes) &&
    nullableNumber(x.deliveredBytes) &&
    nullableNumber(x.width) &&
    (x.sampleRate === undefined ||
      (typeof x.sampleRate === "number" && x.sampleRate > 0 && x.sampleRate <= 1))
  );
}

/** Structural check of a queue record (the intake built it; this guards against foreign producers). */
export function isRumQueueMessage(x: unknown): x is RumQueueMessage {
  if (!isObject(x) || typeof x.ts !== "number" || typeof x.site !== "string") return false;
  if (x.kind === "edge") return typeof x.rid === "string" && typeof x.pageGroup === "string";
  if (x.kind === "image") return isImageLogMessage(x);
  if (x.kind !== "pageview") return false;
  return (
    typeof x.pvid === "string" &&
    typeof x.seq === "number" &&
    typeof x.pageGroup === "string" &&
    typeof x.path === "string" &&
    typeof x.cacheStatus === "string" &&
    isObject(x.dims) &&
    isObject(x.beacon) &&
    isObject(x.beacon.vitals) &&
    isObject(x.attribution)
  );
}

/** Decoded records of one message body, their JSON lines, and how many lines were malformed. */
export interface DecodedBody {
  messages: RumQueueMessage[];
  lines: string[];
  bad: number;
  /** Why edge batches were rejected (for the log). */
  errors: string[];
}

function readEdgeBatch(x: Record<string, unknown>, out: DecodedBody): void {
  const records = expandEdgeLogBatch(x);
  if (typeof records === "string") {
    out.errors.push(`malformed edge-batch: ${records}`);
    out.bad++;
    return;
  }
  for (const r of records) {
    out.messages.push(r);
    out.lines.push(JSON.stringify(r));
  }
}

/**
 * The records in one queue message body: NDJSON text (`packNdjson`; a line may hold a whole
 * columnar edge batch, `expandEdgeLogBatch`) or one record object (`json`, other producers).
 */
export function readMessageBody(body: unknown): DecodedBody {
  const out: DecodedBody = { messages: [], lines: [], bad: 0, errors: [] };
  const one = (parsed: unknown, line: string | null) => {
    if (isObject(parsed) && parsed.kind === "edge-batch") readEdgeBatch(parsed, out);
    else if (isRumQueueMessage(parsed)) {
      out.messages.push(parsed);
      out.lines.push(line ?? JSON.stringify(parsed));
    } else out.bad++;
  };
  if (typeof body !== "string") {
    one(body, null);
    return out;
  }
  for (const line of body.split("\n")) {
    if (line === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      out.bad++;
      continue;
    }
    one(parsed, line);
  }
  return out;
}
