import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort, startStack } from "../../scripts/stack.mjs";

// Cheap smoke test of the launcher: only the demo origin, on a free port. The full stack
// (wrangler dev + image service) is exercised by the end-to-end tests.
describe("startStack", () => {
  it("starts only the demo origin on a free port and stops its process", async () => {
    const stack = await startStack({ services: ["demo"], demoPort: 0, quiet: true, demoBackendMs: 0 });
    const pid = stack.pids.demo;
    try {
      expect(stack.services).toEqual(["demo"]);
      expect(stack.urls.edge).toBeUndefined();
      expect(stack.ports.demo).toBeGreaterThan(0);
      expect(stack.urls.origin).toBe(`http://127.0.0.1:${stack.ports.demo}`);
      const res = await fetch(`${stack.urls.origin}/p/1`);
      expect(res.status).toBe(200);
      expect(res.headers.get("Cache-Tag")).toBe("product-1, category-1");
      // The readiness polls hit /__demo/health, which is not counted.
      const stats = await (await fetch(`${stack.urls.origin}/__demo/stats`)).json();
      expect(stats.total).toBe(1);
    } finally {
      await stack.stop();
    }
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid ?? 0, 0)).toThrow();
    await expect(fetch(`${stack.urls.origin}/`)).rejects.toThrow();
  });

  it("picks free ports below the ephemeral range, where outgoing connections cannot take them", async () => {
    const [lo] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThan(lo as number);
    }
    // Still free: it can be bound.
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(ports[0], "127.0.0.1", resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });

  it("refuses a taken port with an error naming the service and the env key", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const address = holder.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      await expect(startStack({ services: ["demo"], demoPort: port, quiet: true })).rejects.toThrow(
        new RegExp(`Port ${port} \\(demo origin\\).*already in use.*DEMO_PORT`),
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it("does not start the demo origin when an originUrl is given", async () => {
    const stack = await startStack({ services: ["demo"], originUrl: "http://127.0.0.1:9/", quiet: true });
    await stack.stop();
    expect(stack.services).toEqual([]);
    expect(stack.urls.origin).toBe("http://127.0.0.1:9");
    await expect(startStack({ services: ["demo"], originUrl: "ftp://x", quiet: true })).rejects.toThrow(
      /ORIGIN_URL.*"ftp:\/\/x"/,
    );
  });
});
