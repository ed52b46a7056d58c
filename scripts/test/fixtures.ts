/** Temp copies of the repository's wrangler.toml for the deploy preflight tests. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
const DIR = path.join(ROOT, ".state", `deploy-check-${process.pid}`);

/** Secrets that pass the production policy. */
export const GOOD_SECRETS: Record<string, string> = {
  EDGE_ADMIN_TOKEN: `${"a".repeat(20)}Zq81kP0xW3mN7bV2cX9`,
  RUM_QUERY_TOKEN: `${"q".repeat(20)}Lr72jH4sD6fG1hJ8kK5`,
  DASH_TOKEN: `${"d".repeat(20)}Tp93nB6vC2xZ7mQ4wE1`,
  IMAGE_SIGNING_KEY: `${"s".repeat(20)}Yu65tR8eW1qA3sD9fG2`,
};

/**
 * The repository's wrangler.toml made deployable: the production placeholders replaced by a
 * made-up shop (acme-shop.de) and ids, paths pointing back at the repository.
 */
export function goodToml(): string {
  const text = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8")
    .replace('main = "worker/index.ts"', 'main = "../../worker/index.ts"')
    .replaceAll('migrations_dir = "migrations"', 'migrations_dir = "../../migrations"');
  const at = text.indexOf("\n[env.production]\n");
  const prod = text
    .slice(at)
    .replaceAll("origin.shop.example.com", "origin.acme-shop.de")
    .replaceAll("images.shop.example.com", "images.acme-shop.de")
    .replaceAll("shop.example.com", "www.acme-shop.de")
    .replace('zone_name = "example.com"', 'zone_name = "acme-shop.de"')
    .replace('"00000000-0000-0000-0000-000000000000"', '"6f1c2a9e-4b7d-4e0a-9c3f-2d8e5b1a7c40"')
    .replace('"00000000000000000000000000000000"', '"8c3e51d2a7f94b06b1e2c4d6f8a0b3c5"');
  return text.slice(0, at) + prod;
}

/** Writes `toml` (and a secrets file) under .state/; returns the paths relative to the repository. */
export function writeCase(name: string, toml: string, secrets: Record<string, string> = GOOD_SECRETS) {
  mkdirSync(DIR, { recursive: true });
  const config = path.join(DIR, `${name}.toml`);
  const secretsFile = path.join(DIR, `${name}.secrets`);
  writeFileSync(config, toml);
  writeFileSync(
    secretsFile,
    Object.entries(secrets)
      .map(([k, v]) => `${k}="${v}"`)
      .join("\n"),
  );
  return { config: path.relative(ROOT, config), secretsFile: path.relative(ROOT, secretsFile) };
}

export function cleanup(): void {
  rmSync(DIR, { recursive: true, force: true });
}
