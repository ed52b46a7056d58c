/**
 * Page groups per site are capped: the first `RUM_MAX_PAGE_GROUPS` (default 300) distinct groups
 * a site sends are admitted (`rum_page_groups`), every later one is counted as `(other)`, so
 * random paths cannot grow the rollups (one row per group and minute) without bound. Group names
 * are cut to 100 characters. Admitted groups are remembered per isolate, so a batch of known
 * groups costs no D1 read.
 */
import { MAX_PAGE_GROUP_LENGTH } from "./page-view-row.ts";

/** The group every page view past the cap is counted in. */
export const OTHER_PAGE_GROUP = "(other)";
/** Default of `RUM_MAX_PAGE_GROUPS`. */
export const DEFAULT_MAX_PAGE_GROUPS = 300;

/** A page-group name as stored: at most 100 characters. */
export function cutGroupName(g: string): string {
  return g.length > MAX_PAGE_GROUP_LENGTH ? g.slice(0, MAX_PAGE_GROUP_LENGTH) : g;
}

/** Maps page groups to admitted ones, admitting new ones while a site is under its cap. */
export class PageGroupCap {
  private readonly admitted = new Map<string, Set<string>>();
  readonly max: number;
  constructor(max: number) {
    this.max = max;
  }

  private known(site: string): Set<string> {
    let s = this.admitted.get(site);
    if (!s) {
      s = new Set([OTHER_PAGE_GROUP]);
      this.admitted.set(site, s);
    }
    return s;
  }

  /**
   * Admits what fits of `groups` (per site) and returns the mapping function: an admitted name
   * maps to itself (cut), any other to `(other)`.
   */
  async resolve(
    db: D1Database,
    groups: Iterable<{ site: string; group: string }>,
    now: number,
  ): Promise<(site: string, group: string) => string> {
    const unknown = new Map<string, Set<string>>();
    for (const { site, group } of groups) {
      const g = cutGroupName(group);
      if (this.known(site).has(g)) continue;
      let s = unknown.get(site);
      if (!s) {
        s = new Set();
        unknown.set(site, s);
      }
      s.add(g);
    }
    if (unknown.size > 0) {
      const stmts: D1PreparedStatement[] = [];
      for (const [site, names] of unknown) {
        const json = JSON.stringify([...names]);
        // Admits new names in order while the site has room; then reads back which exist.
        stmts.push(
          db
            .prepare(
              "INSERT OR IGNORE INTO rum_page_groups (site, page_group, first_ts) SELECT ?1, value, ?3 FROM json_each(?2) WHERE value NOT IN (SELECT page_group FROM rum_page_groups WHERE site = ?1) LIMIT max(0, ?4 - (SELECT COUNT(*) FROM rum_page_groups WHERE site = ?1))",
            )
            .bind(site, json, now, this.max),
          db
            .prepare(
              "SELECT ?1 AS site, page_group FROM rum_page_groups WHERE site = ?1 AND page_group IN (SELECT value FROM json_each(?2))",
            )
            .bind(site, json),
        );
      }
      const res = await db.batch<{ site: string; page_group: string }>(stmts);
      for (const r of res) for (const row of r.results) this.known(row.site).add(row.page_group);
    }
    return (site, group) => {
      const g = cutGroupName(group);
      return this.known(site).has(g) ? g : OTHER_PAGE_GROUP;
    };
  }
}
