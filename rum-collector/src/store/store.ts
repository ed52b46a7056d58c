/**
 * The store behind one interface: what intake's queue consumer, the query API and the cron need
 * from storage. `createD1Store` is the embedded implementation (D1 for page views, rollups and the
 * raw window; R2 for the Parquet/NDJSON archive). A distributed store (ClickHouse, a columnar
 * service, …) implements the same interface; the intake (it only enqueues) and the dashboards
 * (they only call the query API) do not change.
 */

import type {
  CoverageResult,
  CoverageSpec,
  ImageQueryResult,
  ImageQuerySpec,
  MultiQueryResult,
  QueryResult,
  QuerySpec,
} from "../../../common/src/query-contract.ts";
import type { RumQueueMessage } from "../../../common/src/rum-types.ts";

export type { CoverageResult };

import type { StepOutcome } from "./maintenance.ts";
import type { ReplayResult } from "./replay.ts";
import type { StoreResult } from "./write-messages.ts";

export interface RumStore {
  /**
   * Stores one queue batch (page views joined to the edge log, edge and image records, rollups)
   * and archives it. `lines`, when given, holds each record's JSON text as it came off the queue
   * (same order; `undefined` where there is none), which the archive reuses instead of serialising
   * the record again.
   */
  writeBatch(
    records: RumQueueMessage[],
    batchId: string,
    now: number,
    lines?: readonly (string | undefined)[],
  ): Promise<StoreResult>;
  /** Percentiles from the rollups (`GET /v1/query`). */
  queryRollups(spec: QuerySpec): Promise<QueryResult | MultiQueryResult>;
  /** Image bytes saved (`GET /v1/images`). */
  queryImages(spec: ImageQuerySpec): Promise<ImageQueryResult>;
  /** Beacons ÷ edge HTML page views (`GET /v1/coverage`). */
  coverage(spec: CoverageSpec): Promise<CoverageResult>;
  /** The latest raw page views of the raw window, newest first (`GET /v1/pageviews`). */
  rawWindow(q: { limit: number; site: string | null }): Promise<Record<string, unknown>[]>;
  /** The archive: list and read objects, re-send dead letters or archived hours. */
  archive: {
    list(
      prefix: string,
      cursor: string | null,
    ): Promise<{ objects: Array<{ key: string; size: number }>; cursor: string | null }>;
    get(key: string): Promise<{ body: ReadableStream; contentType: string } | null>;
    replayDeadLetters(): Promise<ReplayResult>;
    replayHours(from: number, to: number, cursor: string | null): Promise<ReplayResult>;
  } | null;
  /** The cron's maintenance steps (downsampling, retention, join window, archive retention). */
  maintenance(now: number): Promise<StepOutcome[]>;
}
