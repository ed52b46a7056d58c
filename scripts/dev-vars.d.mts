/** Types of scripts/dev-vars.mjs (local secrets in .dev.vars and the test projects' fixed tokens). */
export type SecretKey = "EDGE_ADMIN_TOKEN" | "RUM_QUERY_TOKEN" | "DASH_TOKEN";
export const SECRET_KEYS: readonly SecretKey[];
export const TEST_TOKENS: Readonly<Record<SecretKey, string>>;
export function randomToken(): string;
export function parseDotenv(text: string): Record<string, string>;
export function ensureDevVars(root: string): {
  file: string;
  tokens: Record<SecretKey, string>;
  added: SecretKey[];
};
export function quietRequiredSecrets(): void;
/** `$KEY`, else its value in `<root>/.dev.vars` (default: the repository), else undefined. */
export function localToken(key: string, root?: string): string | undefined;
