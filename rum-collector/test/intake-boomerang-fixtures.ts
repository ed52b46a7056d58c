/** A realistic boomerang page-load beacon for the boomerang intake tests. */
import { SITE_ORIGIN } from "./intake-fixtures.ts";

/** Navigation start (epoch ms) of the fixture beacon. */
export const NAV_START = 1_707_076_768_666;

/** A page-load beacon as boomerang 1.7xx sends it (RT, NavigationTiming, PaintTiming plugins). */
export function boomerangParams(extra: Record<string, string> = {}): URLSearchParams {
  const at = (ms: number) => String(NAV_START + ms);
  return new URLSearchParams({
    "rt.start": "navigation",
    "rt.tstart": at(0),
    "rt.end": at(412),
    t_resp: "296",
    t_page: "116",
    t_done: "412",
    "pt.fcp": "407",
    "pt.lcp": "455",
    "c.cls": "0.02",
    nt_nav_st: at(0),
    nt_fet_st: at(5),
    nt_dns_st: at(17),
    nt_dns_end: at(18),
    nt_con_st: at(18),
    nt_ssl_st: at(122),
    nt_con_end: at(184),
    nt_req_st: at(184),
    nt_res_st: at(296),
    nt_res_end: at(300),
    nt_domint: at(400),
    nt_domcontloaded_end: at(402),
    nt_load_end: at(412),
    nt_enc_size: "3209",
    nt_trn_size: "3940",
    nt_nav_type: "1",
    "mob.etype": "4g",
    "mob.rtt": "100",
    "mob.dl": "8.5",
    u: `${SITE_ORIGIN}/c/shoes?color=red`,
    v: "1.737.60",
    "rt.si": "dd0c542f-7adf-4310-830a-6c0a3d157c90-s8cjr1",
    pid: "8fftz949",
    n: "1",
    ...extra,
  });
}
