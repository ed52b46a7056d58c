/**
 * What a delay link saw of one HTTP request (pure; tested in lab/test/witness.test.mjs): whether
 * it went over a connection opened during the view, how long the server behind the link held
 * it (from the request entering the link, plus the one-way delay, to the response's first
 * packet entering the link on its way back), and how long the response took to cross (its first
 * to its last packet entering the link: TCP's congestion window and pacing spread a response
 * over time, and an edge that reads the whole body before it answers waits for all of it).
 */

/**
 * `events`: the link's events; `target`: the request target (path and query) to look for;
 * `sinceUs`: monotonic time the view started; `oneWayUs`: the link's one-way delay. Returns
 * { newConn, serverMs, transferMs } (NaN when no response was seen), or null if the request never
 * crossed the link.
 */
export function witnessRequest(events, { target, sinceUs, oneWayUs }) {
  const req = events.find(
    (e) => e.kind === "req" && e.dir === "ab" && e.tUs >= sinceUs && e.text.split(" ")[1] === target,
  );
  if (!req) return null;
  let syn;
  for (const e of events) {
    if (e.tUs > req.tUs) break;
    if (e.kind === "syn" && e.dir === "ab" && e.src === req.src && e.dst === req.dst) syn = e;
  }
  const res = events.find(
    (e) => e.kind === "res" && e.dir === "ba" && e.tUs > req.tUs && e.src === req.dst && e.dst === req.src,
  );
  // The response's last packet: data back on the same connection before its next request.
  let last = res;
  if (res) {
    for (const e of events) {
      if (e.tUs <= res.tUs || e.src === undefined) continue;
      if (e.kind === "req" && e.src === req.src && e.dst === req.dst) break;
      if (
        (e.kind === "dat" || e.kind === "res") &&
        e.dir === "ba" &&
        e.src === req.dst &&
        e.dst === req.src
      ) {
        if (e.kind === "res") break;
        last = e;
      }
    }
  }
  return {
    newConn: syn !== undefined && syn.tUs >= sinceUs,
    serverMs: res ? (res.tUs - req.tUs - oneWayUs) / 1000 : Number.NaN,
    transferMs: res ? (last.tUs - res.tUs) / 1000 : Number.NaN,
  };
}
