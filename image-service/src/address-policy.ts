import { isIP } from "node:net";

/** IPv4 ranges that are never fetched unless configured: private, loopback, link-local, CGNAT, reserved. */
const V4_BLOCKED: readonly [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];

function v4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function v4Blocked(ip: string): boolean {
  const n = v4ToInt(ip);
  return V4_BLOCKED.some(([base, bits]) => {
    const size = 2 ** (32 - bits);
    const start = v4ToInt(base);
    return n >= start && n < start + size;
  });
}

/** Expands an IPv6 address to 8 hextets (handles `::` and an embedded IPv4 tail). */
function v6Hextets(ip: string): number[] {
  let text = ip.toLowerCase().split("%")[0] ?? "";
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4tail?.[1]) {
    const n = v4ToInt(v4tail[1]);
    text = `${text.slice(0, -v4tail[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((x) => Number.parseInt(x, 16));
}

/** True when `ip` is a public unicast address; false for private, loopback, link-local, ULA, mapped-private, etc. */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return !v4Blocked(ip);
  if (family !== 6) return false;
  const x = v6Hextets(ip);
  const [a = 0, b = 0] = x;
  const embeddedV4 = () =>
    `${(x[6] ?? 0) >> 8}.${(x[6] ?? 0) & 255}.${(x[7] ?? 0) >> 8}.${(x[7] ?? 0) & 255}`;
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compat) and 64:ff9b::/96 (NAT64) carry an IPv4 address.
  if (x.slice(0, 5).every((v) => v === 0) && (x[5] === 0xffff || x[5] === 0)) {
    if (x[5] === 0 && x[6] === 0 && (x[7] === 0 || x[7] === 1)) return false; // :: and ::1
    return !v4Blocked(embeddedV4());
  }
  if (a === 0x64 && b === 0xff9b && x.slice(2, 6).every((v) => v === 0)) return !v4Blocked(embeddedV4());
  if ((a & 0xfe00) === 0xfc00) return false; // fc00::/7 unique local
  if ((a & 0xffc0) === 0xfe80) return false; // fe80::/10 link-local
  if ((a & 0xffc0) === 0xfec0) return false; // fec0::/10 site-local (deprecated)
  if ((a & 0xff00) === 0xff00) return false; // multicast
  if (a === 0x2001 && b === 0x0db8) return false; // documentation
  if (a === 0x2002) return false; // 6to4 can tunnel to private IPv4
  if (a === 0x2001 && b === 0) return false; // Teredo
  return true;
}

/** Strips IPv6 URL brackets: `[::1]` → `::1`. */
export function hostAddress(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}
