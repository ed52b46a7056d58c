/** Types of scripts/stack.mjs (the local stack launcher used by `npm start` and e2e tests). */

export type StackService = "demo" | "image" | "edge";

export type TrafficConfig = {
  /** Where the shoppers go (default: the edge, or the origin when the edge is not started). */
  baseUrl?: string;
  /** Default 60 000 ms. */
  durationMs?: number;
  /** Default 4 requests/s. */
  rps?: number;
  /** Also open a few pages in headless Chromium when available (default true). */
  browser?: boolean;
};

export type StackOptions = {
  /** wrangler dev port (default 8787; 0 = a free port). */
  edgePort?: number;
  /** Image service port (default 8788; 0 = a free port). Started only if image-service/src/main.ts exists. */
  imagePort?: number;
  /** Demo origin port (default 8000; 0 = a free port). */
  demoPort?: number;
  /** wrangler inspector port (default 0 = a free port, so stacks never collide). */
  inspectorPort?: number;
  /** Point the edge at this origin instead of starting the demo origin. */
  originUrl?: string;
  /** Which services to start (default all three). */
  services?: StackService[];
  /** Run demo traffic against the edge after start-up (default false). */
  traffic?: boolean | TrafficConfig;
  /** Do not print child output or status lines (default false); failures still throw with the tail of the output. */
  quiet?: boolean;
  /** Where lines go when not quiet (default console.log). */
  log?: (line: string) => void;
  /**
   * wrangler --persist-to dir for D1/KV/R2/cache state. Default: wrangler's own .wrangler/state when
   * the edge runs on 8787; otherwise a scratch .state/wrangler-<edgePort> that starts empty and is
   * deleted by stop(). An explicit dir is used as is and never deleted.
   */
  persistTo?: string;
  /** Extra/overriding Worker vars passed as `--var KEY:VALUE`. */
  vars?: Record<string, string>;
  /** DEMO_BACKEND_MS for the demo origin (default: the origin's own default, 40). */
  demoBackendMs?: number;
  /** DEMO_JITTER_MS for the demo origin (default: the origin's own default, 20). */
  demoJitterMs?: number;
  /** Aborting during start-up stops every child already started and rejects. */
  signal?: AbortSignal;
  /** How long to wait for wrangler dev to answer (default 90 000 ms; demo/image wait at most 30 s). */
  readyTimeoutMs?: number;
};

export type Stack = {
  urls: {
    /** The origin the edge talks to (the demo origin unless originUrl was given). */
    origin: string;
    edge?: string;
    image?: string;
    dashboards?: string;
    queryApi?: string;
    pageviews?: string;
    purge?: string;
    imageExample?: string;
    /** GET for request counts, POST `/__demo/reset` beside it (demo origin only). */
    originStats?: string;
  };
  ports: { demo?: number; image?: number; edge?: number; inspector?: number };
  /** Effective Worker tokens (wrangler.toml [vars], .dev.vars, then opts.vars). */
  tokens: { dash?: string; query?: string; admin?: string };
  persistTo?: string;
  services: StackService[];
  pids: Record<string, number>;
  /** Resolves when a long-running child exits unexpectedly (never, if all keep running). */
  exited: Promise<{ name: string; code: number | null; signal: NodeJS.Signals | null }>;
  /** Exit code of the traffic run, when traffic was asked for. */
  traffic?: Promise<number | null>;
  /** Stops every child (SIGTERM to each process group, SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
};

export const ROOT: string;
export const DEFAULT_PORTS: Readonly<{ edge: number; image: number; demo: number }>;
export const WRANGLER_ENV: Readonly<Record<string, string>>;
export function readWorkerVars(root?: string): Record<string, string>;
/** A free port on 127.0.0.1 below the kernel's ephemeral range, not one of `taken` (what port 0 means for the stack). */
export function freePort(taken?: ReadonlySet<number>): Promise<number>;
/** Starts the local stack (defaults: ports 8787/8788/8000, all services, no traffic). */
export function startStack(opts?: StackOptions): Promise<Stack>;
