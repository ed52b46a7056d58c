/**
 * `/_edge/prefetch/arm.js`: marks the page's root element with the tab's experiment arm
 * (`data-prefetch-arm`), read from sessionStorage `rum:arm` (written by the RUM beacon, which
 * owns the assignment and reports the arm in every beacon). The speculation rules only match
 * under `:root[data-prefetch-arm="ours"|"press"]`, so a holdout tab, or one whose arm is not
 * known yet, speculates nothing. In the ours arm, a browser without Speculation Rules gets
 * `<link rel=prefetch>` for the same URLs (read from the rules document). Under Save-Data or a
 * 2g connection (Network Information API) the root is not marked, so nothing is speculated
 * even from rules written into a cached page. Never throws.
 */

/** Path the script is served at (injected into origin HTML as an external, CSP-friendly script). */
export const ARM_SCRIPT_PATH = "/_edge/prefetch/arm.js";
/** Path of the rules document. */
export const RULES_PATH = "/_edge/prefetch/rules.json";

/** The script source (ES2017, no dependencies). */
export const ARM_SCRIPT = `(function(){try{
var d=document,r=d.documentElement,s=d.currentScript,tries=0,ARMS={holdout:1,ours:1,press:1};
function links(){var u=s&&s.getAttribute("data-rules");if(!u||!window.fetch)return;
fetch(u,{credentials:"same-origin"}).then(function(x){return x.json()}).then(function(doc){
(doc.prefetch||[]).forEach(function(rule){if(rule.tag!=="ours")return;var w=rule.where&&rule.where.and||[];
w.forEach(function(c){(Array.isArray(c.href_matches)?c.href_matches:[]).forEach(function(p){
var l=d.createElement("link");l.rel="prefetch";l.href=p.replace(/\\\\(.)/g,"$1");d.head.appendChild(l)})})})}).catch(function(){})}
function mark(){var a=null;try{a=sessionStorage.getItem("rum:arm")}catch(e){}
if(!a||!ARMS[a]){if(++tries<8)setTimeout(mark,tries*150);return}
var c=navigator.connection;if(a!=="holdout"&&c&&(c.saveData||/(^|-)2g$/.test(c.effectiveType||"")))return;
r.setAttribute("data-prefetch-arm",a);
if(a==="ours"&&!(window.HTMLScriptElement&&HTMLScriptElement.supports&&HTMLScriptElement.supports("speculationrules")))links()}
mark()}catch(e){}})();
`;

/** The tag injected into HTML for a page (the rules URL lets the link fallback find its candidates). */
export function armScriptTag(rulesUrl: string): string {
  const esc = rulesUrl.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<script src="${ARM_SCRIPT_PATH}" data-rules="${esc}" async></script>`;
}
