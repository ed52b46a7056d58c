/** The one stylesheet, served at `/_dash/style.css` (CSP `style-src 'self'`: no inline styles). */
export const STYLESHEET = `
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--bg:#f6f7f9;--card:#fff;--accent:#1f5fbf;
--good:#0b7a3e;--ni:#a86200;--poor:#c0262d;
--queueing:#9aa3b2;--lastMileConnect:#5b8def;--lastMileWire:#2a5cc4;--edge:#f29d38;--middleMile:#a066d3;
--backend:#d6455d;--download:#3fb39a;--resourceLoadDelay:#c9d86a;--resourceLoadDuration:#8fb83c;--elementRenderDelay:#5e8a2c}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
header.top{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;padding:.6rem 1rem;background:var(--card);border-bottom:1px solid var(--line)}
header.top .brand{font-weight:700}
header.top nav a{margin-right:1rem;text-decoration:none}
header.top nav a.active{font-weight:700;text-decoration:underline}
header.top form{margin-left:auto}
main{max-width:1200px;margin:0 auto;padding:1rem}
h1{font-size:1.3rem;margin:.2rem 0 1rem}
h2{font-size:1.05rem;margin:0 0 .6rem}
section.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin-bottom:1rem;min-width:0}
.muted{color:var(--muted)}
.small{font-size:.85rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}
input,select,button{font:inherit;padding:.3rem .45rem;border:1px solid var(--line);border-radius:5px;background:#fff;color:var(--fg)}
button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}
button.link{background:none;color:var(--accent);border:none;padding:0;text-decoration:underline}
.ranges a{display:inline-block;padding:.2rem .55rem;border:1px solid var(--line);border-radius:5px;margin-right:.3rem;text-decoration:none;background:#fff}
.ranges a.active{background:var(--accent);color:#fff;border-color:var(--accent)}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:.8rem;margin-bottom:1rem}
.tile{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--line);border-radius:8px;padding:.7rem .9rem}
.tile .name{font-size:.85rem;color:var(--muted)}
.tile .value{font-size:1.7rem;font-weight:700}
.tile.good{border-left-color:var(--good)}.tile.good .value{color:var(--good)}
.tile.ni{border-left-color:var(--ni)}.tile.ni .value{color:var(--ni)}
.tile.poor{border-left-color:var(--poor)}.tile.poor .value{color:var(--poor)}
td.good{color:var(--good)}td.ni{color:var(--ni)}td.poor{color:var(--poor)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);white-space:nowrap}
th{font-size:.8rem;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.legend{display:flex;flex-wrap:wrap;gap:.3rem .9rem;font-size:.8rem;margin:.3rem 0 .7rem}
.legend span::before{content:"";display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:-.05em;border-radius:2px;background:var(--c)}
${[
  "queueing",
  "lastMileConnect",
  "lastMileWire",
  "edge",
  "middleMile",
  "backend",
  "download",
  "resourceLoadDelay",
  "resourceLoadDuration",
  "elementRenderDelay",
]
  .map((k) => `.seg-${k}{fill:var(--${k})}.legend .key-${k}{--c:var(--${k})}`)
  .join("\n")}
svg.stack{display:block}
svg.stack .ttfb-mark{stroke:var(--fg);stroke-width:1.5}
.seg-HIT{fill:var(--good)}.seg-STALE{fill:var(--ni)}.seg-MISS{fill:var(--poor)}.seg-EXPIRED{fill:#e07a7f}.seg-BYPASS{fill:#9aa3b2}.seg-NONE{fill:#cfd4dc}
.legend .key-HIT{--c:var(--good)}.legend .key-STALE{--c:var(--ni)}.legend .key-MISS{--c:var(--poor)}.legend .key-EXPIRED{--c:#e07a7f}.legend .key-BYPASS{--c:#9aa3b2}.legend .key-NONE{--c:#cfd4dc}
td.bar{width:100%;min-width:160px;white-space:normal}
svg.bytes-bar{display:block}
svg.bytes-bar .img-original{fill:#cfd4dc}
svg.bytes-bar .img-delivered{fill:var(--good)}
.legend .key-img-original{--c:#cfd4dc}.legend .key-img-delivered{--c:var(--good)}
.saved-neg{color:var(--poor)}
.notice.resolution{border-left-color:var(--muted);background:#f1f2f5}
svg.line-chart{display:block;max-height:260px}
svg.line-chart .grid{stroke:var(--line)}
svg.line-chart .tick{font-size:11px;fill:var(--muted)}
svg.line-chart .line{fill:none;stroke:var(--accent);stroke-width:2}
svg.line-chart .dot{fill:var(--accent)}
svg.line-chart .ref-good{stroke:var(--good);stroke-dasharray:4 4}
svg.line-chart .ref-poor{stroke:var(--poor);stroke-dasharray:4 4}
.notice{border-left:5px solid var(--accent);background:#eef3fc;padding:.8rem 1rem;border-radius:6px;margin-bottom:1rem}
.notice.error{border-left-color:var(--poor);background:#fdeeee}
.notice.empty{border-left-color:var(--ni);background:#fff6e6}
.cache{font-weight:600;font-size:.8rem;padding:.05rem .35rem;border-radius:4px;background:#eceff4}
.cache.HIT{background:#dff3e7;color:var(--good)}.cache.MISS,.cache.EXPIRED{background:#fdeeee;color:var(--poor)}.cache.STALE{background:#fff2dc;color:var(--ni)}
.login{max-width:360px;margin:3rem auto}
.login form{display:flex;flex-direction:column;gap:.6rem}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1rem}
.grid2 section.card{margin-bottom:0}
@media (max-width:640px){main{padding:.5rem}.tile .value{font-size:1.35rem}section.card{padding:.7rem}.trunc{max-width:16ch}}
.skip{position:absolute;left:-999px;top:.3rem;background:var(--card);padding:.3rem .6rem;z-index:2}
.skip:focus{left:.5rem}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,.table-wrap:focus-visible,main:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
main:focus{outline:none}
.table-wrap{overflow-x:auto;max-width:100%;margin:.3rem 0}
.trunc{display:inline-block;max-width:28ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
.trunc.wide{max-width:40ch}
header.top nav{display:flex;flex-wrap:wrap;gap:.2rem 1rem}
header.top nav a{margin-right:0}
form.filters input{max-width:100%}
form.filters label{min-width:0}
.loading:not(:last-child){display:none}
.export{display:block;margin:.2rem 0}
.badge{display:inline-block;font-size:.75rem;font-weight:600;padding:.05rem .4rem;border-radius:4px;margin:.1rem 0}
.badge.ok{background:#dff3e7;color:var(--good)}.badge.firing{background:var(--poor);color:#fff}
svg.budget{display:block;margin-bottom:.15rem}
svg.budget .track{fill:#eceff4}
.bin.good{fill:var(--good)}.bin.ni{fill:var(--ni)}.bin.poor{fill:var(--poor)}
.legend .key-good{--c:var(--good)}.legend .key-ni{--c:var(--ni)}.legend .key-poor{--c:var(--poor)}
svg.histogram{display:block;max-height:240px}
svg.histogram .tick{font-size:12px;fill:var(--muted)}
span.good,td.num.good{color:var(--good)}span.ni,td.num.ni{color:var(--ni)}span.poor,td.num.poor{color:var(--poor)}
td.budget-cell{min-width:110px}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.4rem 1rem;margin:0 0 1rem}
dl.facts dt{font-size:.75rem;color:var(--muted)}dl.facts dd{margin:0;min-width:0}
dl.facts .trunc{max-width:100%}
table.edge-record th{font-weight:400;color:var(--fg);font-size:.9rem}
.grid2 > *{min-width:0}
@media (max-width:640px){table.reflow thead{display:none}table.reflow,table.reflow tbody{display:block}
table.reflow tr{display:grid;grid-template-columns:1fr 1fr;gap:.2rem .6rem;padding:.5rem 0;border-bottom:1px solid var(--line)}
table.reflow td{display:block;border:none;padding:.1rem 0;white-space:normal;text-align:left;min-width:0}
table.reflow td:first-child,table.reflow td:last-child,table.reflow td.budget-cell{grid-column:1/-1}
table.reflow td[data-label]::before{content:attr(data-label);display:block;font-size:.72rem;color:var(--muted)}}
`;
