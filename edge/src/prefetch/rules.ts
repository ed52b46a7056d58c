/**
 * The speculation rules document the edge serves (`application/speculationrules+json`).
 *
 * Arms live in the tab (sessionStorage `rum:arm`, assigned by the RUM beacon), which the edge
 * cannot see. So every rule is a *document* rule gated by `selector_matches` on the root
 * element's `data-prefetch-arm` attribute, which the arm script (arm-script.ts) sets from
 * sessionStorage: a holdout tab (or a tab whose arm is unknown) matches no rule and speculates
 * nothing, though it received the same header and document. Rules are tagged (`ours`/`press`)
 * so the browser names the arm in `Sec-Speculation-Tags` on each speculative request.
 */

/** Escapes a URL path (+ query) as a URL pattern that matches only itself. */
export function exactUrlPattern(pathAndQuery: string): string {
  return pathAndQuery.replace(/[\\*+?(){}:]/g, (c) => `\\${c}`);
}

/** The rule document's shape (the subset we emit). */
export interface RulesDocument {
  prefetch?: unknown[];
  prerender?: unknown[];
}

const arm = (name: string) => ({ selector_matches: `:root[data-prefetch-arm="${name}"] *` });

/** Patterns that a press-arm (any link) rule must never match: denied paths and searches. */
export function denyPatterns(denyPaths: readonly string[], queryDenyPaths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of denyPaths) {
    const base = exactUrlPattern(p.replace(/\/+$/, "") || "/");
    out.push(base, `${base}/*`, `${base}\\?*`);
  }
  for (const p of queryDenyPaths) out.push(`${exactUrlPattern(p)}\\?*`);
  return out;
}

export interface RulesInput {
  /** Ours-arm prefetch URLs (path + query, already checked by the safety policy). */
  prefetch: readonly string[];
  /** Ours-arm prerender URLs (subset above the prerender threshold; empty unless enabled). */
  prerender: readonly string[];
  /** Deny patterns for the press arm (`denyPatterns`); null = no press rule. */
  pressDeny: readonly string[] | null;
}

/** Builds the rules; an empty document (`{}`) when nothing is to be speculated. */
export function buildRulesDocument(input: RulesInput): RulesDocument {
  const doc: RulesDocument = {};
  const prefetch: unknown[] = [];
  if (input.prefetch.length > 0)
    prefetch.push({
      source: "document",
      where: { and: [arm("ours"), { href_matches: input.prefetch.map(exactUrlPattern) }] },
      eagerness: "immediate",
      tag: "ours",
    });
  if (input.pressDeny !== null)
    prefetch.push({
      source: "document",
      where: { and: [arm("press"), { href_matches: "/*" }, { not: { href_matches: [...input.pressDeny] } }] },
      eagerness: "conservative",
      tag: "press",
    });
  if (prefetch.length > 0) doc.prefetch = prefetch;
  if (input.prerender.length > 0)
    doc.prerender = [
      {
        source: "document",
        where: { and: [arm("ours"), { href_matches: input.prerender.map(exactUrlPattern) }] },
        eagerness: "immediate",
        tag: "ours",
      },
    ];
  return doc;
}
