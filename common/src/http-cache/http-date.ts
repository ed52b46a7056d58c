/**
 * HTTP-date parsing (RFC 9110 §5.6.7): the three forms a recipient must accept, nothing else.
 * `Date.parse` accepts far more (and differs between runtimes), which turns a malformed
 * `Expires` into a freshness lifetime; RFC 9111 §5.3 says such a value means "already expired".
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const IMF = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850 =
  /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function build(year: number, mon: string, day: number, h: number, m: number, s: number): number | null {
  const month = MONTHS.indexOf(mon);
  if (month === -1 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return null;
  const t = Date.UTC(year, month, day, h, m, Math.min(s, 59));
  // Reject dates such as 31 Feb (Date.UTC would roll them over).
  if (new Date(t).getUTCDate() !== day) return null;
  return t;
}

/**
 * Milliseconds since the epoch of an HTTP-date in IMF-fixdate, RFC 850 or asctime form, or null
 * for anything else. RFC 850 two-digit years are read as within 50 years of `nowMs` (§5.6.7).
 */
export function parseHttpDate(value: string | null | undefined, nowMs = 0): number | null {
  if (!value) return null;
  const v = value.trim();
  let m = IMF.exec(v);
  if (m) return build(Number(m[4]), m[3] as string, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  m = RFC850.exec(v);
  if (m) {
    const yy = Number(m[4]);
    const nowYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + yy;
    if (year > nowYear + 50) year -= 100;
    return build(year, m[3] as string, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = ASCTIME.exec(v);
  if (m)
    return build(
      Number(m[7]),
      m[2] as string,
      Number((m[3] as string).trim()),
      Number(m[4]),
      Number(m[5]),
      Number(m[6]),
    );
  return null;
}
