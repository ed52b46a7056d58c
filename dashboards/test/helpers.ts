/** Builds a dashboards app over a fake query API with a fixed clock, plus a signed-in cookie. */
import { createDashboardsApp } from "../src/app.ts";
import { parseDashConfig } from "../src/config.ts";
import { type FakeOptions, fakeQueryApi } from "./fake-query-api.ts";

export const TOKEN = "test-dash-token";
export const NOW = Date.UTC(2026, 10, 25, 12, 0, 30);

export function makeApp(opts: FakeOptions = {}, now = NOW) {
  const fake = fakeQueryApi(opts);
  const app = createDashboardsApp({
    config: parseDashConfig({ DASH_TOKEN: TOKEN }),
    queryApi: fake.api,
    now: () => now,
  });
  return { app, calls: fake.calls };
}

/** GET with a bearer token (the scripts' way in), returns status and body text. */
export async function getAuthed(app: ReturnType<typeof makeApp>["app"], path: string) {
  const res = await app.request(`http://shop.test${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { res, text: await res.text() };
}
