// Image benchmark: typical 2000×1500 product photos (~1 MB JPEG) → 400 px wide WebP q75, JPEG q80,
// AVIF q50, through the image service over HTTP (source on a local origin) next to sharp
// in-process, `vipsthumbnail` (one process per image) and ImageMagick `convert`, same files and
// settings. One run, prints progress, then a table with ratios. Stops by itself (watchdog).
//
//   npm run bench:images [-- --images 4 --reps 4 --concurrency 4 --formats webp,jpeg,avif]
//
// Env: IMAGE_AVIF_EFFORT / IMAGE_WEBP_EFFORT (default 0 / 4, same for the service and sharp).
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import sharp from "sharp";
import { stepOrder } from "./images-order.mjs";
import { requirePeersOrSkip } from "./lib/peers.mjs";

const execFileP = promisify(execFile);
// sharp sets VIPSHOME for its bundled libvips when loaded; the system vipsthumbnail must not see it
// (it would look for its loadable modules, e.g. HEIF/AVIF, under sharp's path and fail).
const cliEnv = { ...process.env };
delete cliEnv.VIPSHOME;
const run = (cmd, argv) => execFileP(cmd, argv, { env: cliEnv });
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    images: { type: "string", default: "4" },
    reps: { type: "string", default: "4" },
    concurrency: { type: "string", default: "4" },
    formats: { type: "string", default: "webp,jpeg,avif" },
  },
});
const IMAGES = Number(args.images);
const REPS = Number(args.reps);
const CONCURRENCY = Number(args.concurrency);
const AVIF_EFFORT = Number(process.env.IMAGE_AVIF_EFFORT ?? 0);
const WEBP_EFFORT = Number(process.env.IMAGE_WEBP_EFFORT ?? 4);
const WIDTH = 400;
// Rounds of every format × image through ours and sharp before measuring (see main()).
const WARMUP_ROUNDS = 3;
const FORMATS = [
  { name: "WebP q75", format: "webp", quality: 75 },
  { name: "JPEG q80", format: "jpeg", quality: 80 },
  { name: `AVIF q50 e${AVIF_EFFORT}`, format: "avif", quality: 50 },
].filter((f) => args.formats.split(",").includes(f.format));
// Server-side split of our HTTP time (from Server-Timing), per format: total and source fetch.
const serverSide = {};
// Server-Timing of the last `ours` response; parsed by recordServerTiming() after the timed call,
// so the bench's own header parsing is not part of ours' measured time.
let lastServerTiming = "";
function recordServerTiming(format) {
  const dur = (name) =>
    Number(new RegExp(`(?:^|, )${name};dur=([\\d.]+)`).exec(lastServerTiming)?.[1] ?? Number.NaN);
  serverSide[format] ??= { total: [], fetch: [] };
  serverSide[format].total.push(dur("img"));
  serverSide[format].fetch.push(dur("img-fetch"));
}

const cleanups = [];
const watchdog = setTimeout(() => {
  console.error("\nbench:images: watchdog (6 min) fired, stopping");
  void shutdown(2);
}, 6 * 60_000);
async function shutdown(code) {
  clearTimeout(watchdog);
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {}
  }
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(130));

const log = (msg) => process.stderr.write(`${msg}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Deterministic photo-like pixels: lit background gradient, shaded objects with texture, sensor
// noise from an LCG (no Math.random), so every run encodes the same bytes.
function photoPixels(width, height, seed) {
  const px = new Uint8ClampedArray(width * height * 3); // clamps to 0–255
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const objs = Array.from({ length: 8 }, () => ({
    x: rand() * width,
    y: rand() * height,
    r: (0.08 + rand() * 0.25) * Math.min(width, height),
    c: [rand() * 255, rand() * 255, rand() * 255],
    f: 20 + rand() * 60,
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 200 + (40 * x) / width;
      let g = 195 + (40 * y) / height;
      let b = 190 + 30 * Math.sin((x + y) / 400);
      for (const o of objs) {
        const dx = x - o.x;
        const dy = y - o.y;
        const d = Math.sqrt(dx * dx + dy * dy) / o.r;
        if (d < 1) {
          const k = Math.min(1, (1 - d) * 4);
          const shade = 0.75 + 0.25 * Math.sin(x / o.f) * Math.cos(y / o.f);
          r += (o.c[0] * shade - r) * k;
          g += (o.c[1] * shade - g) * k;
          b += (o.c[2] * shade - b) * k;
        }
      }
      const n = (rand() - 0.5) * 22 + 9 * Math.sin(x / 2.3 + y / 7.1) * Math.sin(y / 3.7 - x / 11);
      const i = (y * width + x) * 3;
      px[i] = r + n;
      px[i + 1] = g + n;
      px[i + 2] = b + n;
    }
  }
  return Buffer.from(px.buffer);
}

async function sourceImages() {
  const dir = join(tmpdir(), "edge-rum-bench-images-v1");
  mkdirSync(dir, { recursive: true });
  const files = [];
  for (let i = 0; i < IMAGES; i++) {
    const file = join(dir, `photo-${i}.jpg`);
    if (!existsSync(file)) {
      log(`  generating ${file} (2000×1500)…`);
      const raw = photoPixels(2000, 1500, 1000 + i);
      await sharp(raw, { raw: { width: 2000, height: 1500, channels: 3 } })
        .jpeg({ quality: 92 })
        .toFile(file);
    }
    files.push({ name: `photo-${i}.jpg`, file, bytes: readFileSync(file) });
  }
  return files;
}

function startOrigin(files) {
  const byPath = new Map(files.map((f) => [`/${f.name}`, f.bytes]));
  const server = http.createServer((req, res) => {
    const body = byPath.get(req.url ?? "");
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      "content-type": "image/jpeg",
      "content-length": body.length,
      "cache-control": "public, max-age=3600",
    });
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      cleanups.push(() => new Promise((r) => server.close(r)));
      resolve(`http://127.0.0.1:${server.address().port}`);
    }),
  );
}

let servicePid;
// CPU time (ms) of the service process, all threads incl. exited ones (/proc utime+stime, 10 ms ticks).
function serviceCpuMs() {
  const fields = readFileSync(`/proc/${servicePid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
// CPU time (ms) of this process: in-process sharp, and the origin + HTTP client for ours.
function selfCpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function startService(originUrl) {
  const child = spawn(process.execPath, [join(root, "image-service/src/main.ts")], {
    env: {
      ...process.env,
      IMAGE_PORT: "0",
      IMAGE_ORIGINS: originUrl,
      IMAGE_AVIF_EFFORT: String(AVIF_EFFORT),
      IMAGE_WEBP_EFFORT: String(WEBP_EFFORT),
    },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  cleanups.push(async () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("image service did not start in 20 s")), 20_000);
    let buf = "";
    child.stderr.on("data", (d) => {
      buf += d;
      const line = buf.split("\n").find((l) => l.includes("image service listening"));
      if (line) {
        clearTimeout(timer);
        child.stderr.removeAllListeners("data");
        child.stderr.resume();
        servicePid = child.pid;
        resolve(JSON.parse(line).url);
      }
    });
    child.once("exit", (code) => reject(new Error(`image service exited with ${code}: ${buf}`)));
  });
}

// One tool = a function (image, format) → output byte count. `peers`: the external tools present
// (vipsthumbnail, convert); a missing one's row is left out (requirePeersOrSkip printed why).
function tools(serviceUrl, outDir, peers) {
  const sharpOut = (img, f) => {
    const p = sharp(img.bytes).resize({ width: WIDTH });
    if (f.format === "webp") return p.webp({ quality: f.quality, effort: WEBP_EFFORT });
    // The service writes progressive JPEG for `jpeg` (Cloudflare's meaning), so every peer does too.
    if (f.format === "jpeg") return p.jpeg({ quality: f.quality, progressive: true });
    return p.avif({ quality: f.quality, effort: AVIF_EFFORT });
  };
  let n = 0;
  const outFile = (f) => join(outDir, `o${n++ % 64}.${f.format === "jpeg" ? "jpg" : f.format}`);
  const all = {
    ours: async (img, f) => {
      const res = await fetch(
        `${serviceUrl}/transform?url=/${img.name}&w=${WIDTH}&f=${f.format}&q=${f.quality}`,
      );
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`service ${res.status}: ${Buffer.from(body).toString()}`);
      lastServerTiming = res.headers.get("server-timing") ?? "";
      return body.byteLength;
    },
    sharp: async (img, f) => (await sharpOut(img, f).toBuffer()).length,
    vipsthumbnail: async (img, f) => {
      const out = outFile(f);
      const opts =
        f.format === "avif"
          ? `Q=${f.quality},effort=${AVIF_EFFORT},strip`
          : f.format === "jpeg"
            ? `Q=${f.quality},interlace,strip`
            : `Q=${f.quality},strip`;
      await run("vipsthumbnail", [img.file, "-s", `${WIDTH}x`, "-o", `${out}[${opts}]`]);
      return readFileSync(out).length;
    },
    imagemagick: async (img, f) => {
      const out = outFile(f);
      const interlace = f.format === "jpeg" ? ["-interlace", "Plane"] : [];
      await run("convert", [
        img.file,
        "-resize",
        `${WIDTH}x`,
        "-quality",
        String(f.quality),
        ...interlace,
        "-strip",
        out,
      ]);
      return readFileSync(out).length;
    },
  };
  if (!peers.has("vipsthumbnail")) delete all.vipsthumbnail;
  if (!peers.has("convert")) delete all.imagemagick;
  return all;
}

// Latency: tools take turns on each image (round-robin, ours and sharp swapping places on every
// other image), so load from elsewhere on the machine hits all of them alike; the ratio is what counts.
async function latency(toolset, images, f) {
  const times = Object.fromEntries(Object.keys(toolset).map((k) => [k, []]));
  const sizes = Object.fromEntries(Object.keys(toolset).map((k) => [k, []]));
  // CPU ms per tool (summed, then per image): a load-independent view next to wall-clock time.
  const cpu = { ours: 0, sharp: 0 };
  // Warm-up: every tool once on every image (connections, codec init, the origin's first read of
  // each file), so the first measured format does not carry cold-start costs the others do not.
  for (const img of images) for (const fn of Object.values(toolset)) await fn(img, f);
  for (let r = 0; r < REPS; r++) {
    for (const [i, img] of images.entries()) {
      // ours and sharp swap places on every other image and rep (images-order.mjs).
      for (const tool of stepOrder(Object.keys(toolset), r, i)) {
        const fn = toolset[tool];
        const c0 = tool in cpu ? selfCpuMs() + (tool === "ours" ? serviceCpuMs() : 0) : 0;
        const t = performance.now();
        sizes[tool].push(await fn(img, f));
        times[tool].push(performance.now() - t);
        if (tool === "ours") recordServerTiming(f.format);
        if (tool in cpu) cpu[tool] += selfCpuMs() + (tool === "ours" ? serviceCpuMs() : 0) - c0;
      }
    }
    process.stderr.write(".");
  }
  // Ratios are medians of per-image pairs (a over b on the same image, measured back to back), so
  // slow drifts in machine load cancel out of them.
  const paired = (a, b) =>
    times[a] && times[b] ? median(times[a].map((t, i) => t / times[b][i])) : Number.NaN;
  return {
    tools: Object.fromEntries(
      Object.keys(toolset).map((k) => [k, { ms: median(times[k]), bytes: median(sizes[k]) }]),
    ),
    cpu: { ours: cpu.ours / times.ours.length, sharp: cpu.sharp / times.sharp.length },
    ratios: {
      oursSharp: paired("ours", "sharp"),
      oursVips: paired("ours", "vipsthumbnail"),
      imOurs: paired("imagemagick", "ours"),
    },
  };
}

// Throughput: the same work with CONCURRENCY in flight, one tool at a time.
async function throughput(fn, images, f) {
  const queue = Array.from({ length: REPS }, () => images).flat();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let img = queue.shift(); img; img = queue.shift()) await fn(img, f);
    }),
  );
  return (images.length * REPS * 1000) / (performance.now() - t0);
}

async function main() {
  const peers = await requirePeersOrSkip("bench:images", log);
  log(
    `bench:images — ${IMAGES} images × ${REPS} reps, concurrency ${CONCURRENCY}, ${availableParallelism()} cores`,
  );
  const images = await sourceImages();
  const origBytes = median(images.map((i) => i.bytes.length));
  const originUrl = await startOrigin(images);
  const serviceUrl = await startService(originUrl);
  log(`  origin ${originUrl}, image service ${serviceUrl}`);
  const outDir = join(tmpdir(), `edge-rum-bench-out-${process.pid}`);
  mkdirSync(outDir, { recursive: true });
  cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));
  const t = tools(serviceUrl, outDir, peers);
  // Warm-up before anything is measured: the service's JavaScript (HTTP server, source fetch,
  // handlers) and this process's HTTP client and origin need a few dozen requests before V8 has
  // optimised them; without this the first format measured carries that compile time (about
  // +8 CPU-ms per image over the same format measured later). ours and sharp get the same rounds;
  // the external tools have no JIT and get their per-format warm-up in latency().
  log(
    `  warm-up: ours and sharp, ${WARMUP_ROUNDS} rounds × ${FORMATS.length} formats × ${images.length} images`,
  );
  for (let r = 0; r < WARMUP_ROUNDS; r++) {
    for (const f of FORMATS) for (const img of images) for (const k of ["ours", "sharp"]) await t[k](img, f);
  }
  const results = {};
  const ratios = {};
  for (const f of FORMATS) {
    process.stderr.write(`  ${f.name.padEnd(14)} latency `);
    const lat = await latency(t, images, f);
    ratios[f.name] = { ...lat.ratios, cpu: lat.cpu };
    process.stderr.write(" throughput ");
    results[f.name] = {};
    for (const [tool, fn] of Object.entries(t)) {
      results[f.name][tool] = { ...lat.tools[tool], perSec: await throughput(fn, images, f) };
      process.stderr.write(".");
    }
    log(
      ` ${Object.entries(results[f.name])
        .map(([k, r]) => `${k} ${r.ms.toFixed(1)} ms`)
        .join(", ")}; ours server-side ${median(serverSide[f.format].total).toFixed(1)} ms ` +
        `(source fetch ${median(serverSide[f.format].fetch).toFixed(1)} ms)`,
    );
  }

  const pct = (b) => `${(100 * (1 - b / origBytes)).toFixed(1)}%`;
  const rows = [];
  for (const f of FORMATS) {
    const r = results[f.name];
    // A tool whose peer is missing: its cells read "skipped".
    const of = (tool, cell) => (r[tool] ? cell(r[tool]) : "skipped");
    const ratio = (x) => (Number.isNaN(x) ? "skipped" : `${x.toFixed(2)}×`);
    const perSec = (tool) => of(tool, (x) => x.perSec.toFixed(1));
    const bytes = (tool) => of(tool, (x) => String(x.bytes));
    rows.push([
      f.name,
      r.ours.ms.toFixed(1),
      `${median(serverSide[f.format].fetch).toFixed(1)} / ${median(serverSide[f.format].total.map((t, i) => t - serverSide[f.format].fetch[i])).toFixed(1)}`,
      r.sharp.ms.toFixed(1),
      of("vipsthumbnail", (x) => x.ms.toFixed(1)),
      of("imagemagick", (x) => x.ms.toFixed(1)),
      `${ratios[f.name].oursSharp.toFixed(2)}×`,
      `${ratios[f.name].cpu.ours.toFixed(1)} / ${ratios[f.name].cpu.sharp.toFixed(1)} = ${(ratios[f.name].cpu.ours / ratios[f.name].cpu.sharp).toFixed(2)}×`,
      ratio(ratios[f.name].oursVips),
      ratio(ratios[f.name].imOurs),
      `${perSec("ours")} / ${perSec("sharp")} / ${perSec("vipsthumbnail")} / ${perSec("imagemagick")}`,
      `${r.ours.bytes} (${pct(r.ours.bytes)})`,
      `${bytes("vipsthumbnail")} / ${bytes("imagemagick")}`,
    ]);
  }
  const head = [
    "2000×1500 → 400w",
    "ours HTTP ms",
    "in service: fetch / rest ms",
    "sharp ms",
    "vipsthumb ms",
    "IM ms",
    "ours/sharp",
    "CPU ms ours/sharp",
    "ours/vipsthumb",
    "IM/ours",
    `img/s @${CONCURRENCY} ours/sharp/vips/IM`,
    "ours bytes (saved)",
    "vips/IM bytes",
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  console.log(
    `\nImages: median ms per image (sequential, ${IMAGES * REPS} per tool, tools in turn per image, ours and sharp alternating first); ratios = median of per-image ratios; original median ${origBytes} B`,
  );
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const r of rows) console.log(line(r));
  const worst = Math.max(...FORMATS.map((f) => ratios[f.name].oursSharp));
  const imWorst = Math.min(...FORMATS.map((f) => ratios[f.name].imOurs));
  console.log(
    `\nGoals (ANCHORS): ours ≤ 1.2× sharp in-process → worst ${worst.toFixed(2)}× ${worst <= 1.2 ? "MET" : "NOT MET"}; ` +
      (Number.isNaN(imWorst)
        ? "≥ 3× faster than ImageMagick → not measured (ImageMagick row skipped)"
        : `≥ 3× faster than ImageMagick → worst ${imWorst.toFixed(2)}× ${imWorst >= 3 ? "MET" : "NOT MET"}`),
  );
  await shutdown(0);
}

main().catch((e) => {
  console.error(e);
  void shutdown(1);
});
