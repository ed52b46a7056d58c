/**
 * The lab's scenarios and the truth each attributed part must match (pure; tested in
 * lab/test/truth.test.mjs). Times in ms.
 *
 * Truth per page view, given last-mile RTT L, middle-mile RTT M and backend time B, from what the
 * delay links saw (a TCP SYN on the link during the navigation = a new connection):
 *   last mile, connect = L if the navigation opened a TCP connection to the edge, else 0
 *                        (plain http: one RTT for the TCP handshake, no TLS)
 *   last mile, wire    = L (the request goes out, the first response byte comes back)
 *   edge               = 0 (nothing is injected there; its Cache API lookup on the edge's
 *                        loopback is not delayed, see `explain`)
 *   middle mile        = MISS: M, plus M when the edge opened a new connection to the origin
 *                        (TCP handshake), plus the time the origin's response took to cross the
 *                        link (the edge reads the whole page before it answers, to inject the
 *                        beacon); HIT: 0
 *   backend            = MISS: B (the demo origin's configured time for a product page, jitter 0);
 *                        HIT: 0
 */

/** Last-mile RTTs, middle-mile RTTs and backend times of the full grid. */
export const GRID = Object.freeze({ lastMile: [20, 80, 200], middleMile: [10, 60], backend: [50, 300] });

/**
 * The full grid: every MISS combination (L × M × B × cold/reused, 24) and every HIT combination
 * of L × cold/reused (6). A HIT never leaves the edge, so its middle mile and backend are 0 for
 * any M and B: HIT scenarios run once per L, with the grid's first M and B.
 */
export function fullGrid() {
  const out = [];
  for (const conn of ["cold", "reused"]) {
    for (const lastMile of GRID.lastMile) {
      out.push(
        scenario({ cache: "HIT", conn, lastMile, middleMile: GRID.middleMile[0], backend: GRID.backend[0] }),
      );
      for (const middleMile of GRID.middleMile) {
        for (const backend of GRID.backend)
          out.push(scenario({ cache: "MISS", conn, lastMile, middleMile, backend }));
      }
    }
  }
  return out;
}

/** The short form for CI (two scenarios of the full grid): a cold MISS and a reused HIT. */
export function quickGrid() {
  return [
    scenario({ cache: "MISS", conn: "cold", lastMile: 20, middleMile: 10, backend: 50 }),
    scenario({ cache: "HIT", conn: "reused", lastMile: 80, middleMile: 10, backend: 50 }),
  ];
}

/** A scenario with its display name, e.g. "MISS cold L80 M10 B300". */
export function scenario({ cache, conn, lastMile, middleMile, backend }) {
  const name =
    cache === "HIT" ? `HIT ${conn} L${lastMile}` : `MISS ${conn} L${lastMile} M${middleMile} B${backend}`;
  return { name, cache, conn, lastMile, middleMile, backend };
}

/** The attributed parts the lab checks, in table order. */
export const PARTS = ["lastMileConnect", "lastMileWire", "edge", "middleMile", "backend"];

/**
 * Truth for one view of scenario `s`. `newClientConn` / `newOriginConn`: whether the links saw
 * the navigation open a connection to the edge / the edge open one to the origin;
 * `originTransferMs`: how long the origin's response took to cross the middle-mile link (0 if
 * unknown).
 */
export function truthFor(s, { newClientConn, newOriginConn, originTransferMs = 0 }) {
  const miss = s.cache === "MISS";
  const transfer = Number.isFinite(originTransferMs) ? originTransferMs : 0;
  return {
    lastMileConnect: newClientConn ? s.lastMile : 0,
    lastMileWire: s.lastMile,
    edge: 0,
    middleMile: miss ? s.middleMile * (newOriginConn ? 2 : 1) + transfer : 0,
    backend: miss ? s.backend : 0,
  };
}

/** Tolerance for a part whose truth is `truth`: max(2 ms, 2 %). */
export function tolerance(truth) {
  return Math.max(2, 0.02 * Math.abs(truth));
}

/** Median of a non-empty list of numbers (mean of the middle two for even lengths). */
export function median(xs) {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Compares the views of one scenario. Each view: { truth: {part: ms}, measured: {part: ms} }.
 * The truth of a part can differ between views (a connection opened or not), so the error is
 * the median of the per-view errors, and the truth shown is the median truth. Returns one row per
 * part: { part, truth, measured, error, tolerance, ok, unseen, truths } (truths: the distinct
 * truths; unseen: median server time outside Server-Timing the links saw, NaN if none).
 */
export function compareScenario(views) {
  return PARTS.map((part) => {
    const truths = views.map((v) => v.truth[part]);
    const errors = views.map((v) => v.measured[part] - v.truth[part]);
    const truth = median(truths);
    const error = median(errors);
    const tol = tolerance(truth);
    const unseen = views.map((v) => v.unseen?.[part]).filter((x) => Number.isFinite(x));
    return {
      part,
      truth,
      measured: median(views.map((v) => v.measured[part])),
      error,
      tolerance: tol,
      ok: Number.isFinite(error) && Math.abs(error) <= tol,
      unseen: unseen.length > 0 ? median(unseen) : Number.NaN,
      truths: [...new Set(truths)],
    };
  });
}

/** Most edge time the lab accepts as the edge's own loopback calls (see `explain`). */
export const EDGE_LOCAL_IO_MAX_MS = 5;

/**
 * The documented reasons a part may be off by more than its tolerance (lab/README.md, "Why a
 * part can be off"); returns the reason, or null.
 * - Server time that no Server-Timing entry covers. The edge's time outside `edge;dur`
 *   (workerd's clock stands still while the Worker computes) lands in the last-mile wire; the
 *   origin's time outside `app;dur` (HTTP parsing, rendering, ETag) in the middle mile. The links
 *   measure that time from the packets; the part is explained when its error, less that time,
 *   is within tolerance.
 * - The edge part's own waits: a MISS looks the page up in the Cache API (an HTTP call to the
 *   binding service on the edge's loopback, which the lab does not delay) and workerd's clock
 *   counts whole milliseconds. Explained up to EDGE_LOCAL_IO_MAX_MS (5 ms).
 */
export function explain(_s, row) {
  if (!Number.isFinite(row.error)) return null;
  if (row.part === "edge") {
    return row.error >= 0 && row.error <= EDGE_LOCAL_IO_MAX_MS ? "the edge's loopback binding calls" : null;
  }
  if (!Number.isFinite(row.unseen)) return null;
  if (Math.abs(row.error - row.unseen) > row.tolerance) return null;
  return row.part === "lastMileWire"
    ? "edge time outside Server-Timing edge;dur"
    : "origin time outside Server-Timing app;dur";
}
