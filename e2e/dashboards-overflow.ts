/**
 * The layout check the dashboards' browser tests run inside the page: every element of a card
 * (or tile, or the header) must lie within it, unless it sits inside a `.table-wrap` scroll
 * container (then the container itself must); no element may clip its content (scrollWidth >
 * clientWidth with overflow hidden) except `.trunc`, which shows the full value on hover; and
 * the page itself must not scroll sideways. Inside a scroll container, no element may spill out of its
 * table cell (text overlapping the next column). Returns one line per problem.
 */
export function overflowProblems(): string[] {
  const problems: string[] = [];
  const name = (el: Element) =>
    `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.getAttribute("class") ? `.${String(el.getAttribute("class")).trim().replace(/\s+/g, ".")}` : ""} "${(el.textContent ?? "").trim().slice(0, 40)}"`;
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1)
    problems.push(
      `the page scrolls sideways: ${doc.scrollWidth} px content in a ${doc.clientWidth} px viewport`,
    );
  for (const box of Array.from(document.querySelectorAll("section.card, .tile, header.top, .notice"))) {
    const b = box.getBoundingClientRect();
    for (const el of Array.from(box.querySelectorAll("*"))) {
      const wrap = el.closest(".table-wrap");
      if (wrap && wrap !== el && box.contains(wrap)) {
        // Inside a scroll container the table may be wide, but no cell's content may spill over its cell.
        const cell = el.parentElement?.closest("td, th");
        const r = el.getBoundingClientRect();
        const c = cell?.getBoundingClientRect();
        if (c && (r.width > 0 || r.height > 0) && (r.left < c.left - 1 || r.right > c.right + 1))
          problems.push(
            `${name(el)} spills out of its table cell (${Math.round(r.left)}–${Math.round(r.right)} px in ${Math.round(c.left)}–${Math.round(c.right)} px)`,
          );
        continue;
      }
      if (el.closest("title, defs")) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < b.left - 1 || r.right > b.right + 1)
        problems.push(
          `${name(el)} spans ${Math.round(r.left)}–${Math.round(r.right)} px, outside its ${name(box).slice(0, 60)} (${Math.round(b.left)}–${Math.round(b.right)} px)`,
        );
      if (
        el instanceof HTMLElement &&
        !el.classList.contains("trunc") &&
        !el.classList.contains("table-wrap")
      ) {
        const ox = getComputedStyle(el).overflowX;
        if (ox !== "visible" && ox !== "auto" && ox !== "scroll" && el.scrollWidth > el.clientWidth + 1)
          problems.push(`${name(el)} clips its content (${el.scrollWidth} px in ${el.clientWidth} px)`);
      }
    }
  }
  return problems;
}
