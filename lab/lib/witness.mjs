/**
 * What a delay link saw of one HTTP request (pure; tested in lab/test/witness.test.mjs): whether
 * it went over a connection opened during the view, and how long the server behind the link held
 * it (from the request entering the link, plus the one-way delay, to the response's first
 * packet entering the link on its way back).
 */

/**
 * `events`: the link's events; `target`: the request target (path and query) to look for;
 * `sinceUs`: monotonic time the view started; `oneWayUs`: the link's one-way delay. Returns
 * { newConn, serverMs } (serverMs NaN when no response was seen), or null if the request
 * never crossed the link.
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
  return {
    newConn: syn !== undefined && syn.tUs >= sinceUs,
    serverMs: res ? (res.tUs - req.tUs - oneWayUs) / 1000 : Number.NaN,
  };
}
