import { describe, expect, it } from "vitest";
import { AuthThrottle, clientKey } from "./auth-throttle.js";

describe("AuthThrottle", () => {
  it("refuses a client after maxFailures within the window, then lets it try again", () => {
    const t = new AuthThrottle({ maxFailures: 3, windowMs: 10_000 });
    for (let i = 0; i < 3; i++) {
      expect(t.check("1.2.3.4", 1000)).toEqual({ allowed: true });
      t.fail("1.2.3.4", 1000);
    }
    expect(t.check("1.2.3.4", 2000)).toEqual({ allowed: false, retryAfterSeconds: 9 });
    expect(t.check("5.6.7.8", 2000)).toEqual({ allowed: true });
    expect(t.check("1.2.3.4", 11_000)).toEqual({ allowed: true });
  });
  it("forgets a client on success and bounds memory", () => {
    const t = new AuthThrottle({ maxFailures: 1, maxClients: 2 });
    t.fail("a", 0);
    t.succeed("a");
    expect(t.check("a", 1)).toEqual({ allowed: true });
    t.fail("a", 0);
    t.fail("b", 0);
    t.fail("c", 0);
    expect(t.check("a", 1)).toEqual({ allowed: true });
    expect(t.check("c", 1).allowed).toBe(false);
  });
});

describe("clientKey", () => {
  it("keys IPv6 on the /64 and IPv4 on the address", () => {
    expect(clientKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:2::9")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:DB8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("192.0.2.1")).toBe("192.0.2.1");
  });
});
