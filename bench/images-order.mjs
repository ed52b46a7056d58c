/**
 * Order of the tools for one (rep, image) step of bench:images' latency loop: the tools in their
 * listed order, with ours and sharp swapping places when rep + image index is odd. Each image thus
 * gets both orders across reps, and neither of the two pair members always runs first after the
 * external tools (cold CPU caches) or always right after the other (libvips' code warm).
 */
export function stepOrder(names, rep, image) {
  const order = [...names];
  if ((rep + image) % 2 === 1) {
    const a = order.indexOf("ours");
    const b = order.indexOf("sharp");
    if (a >= 0 && b >= 0) [order[a], order[b]] = [order[b], order[a]];
  }
  return order;
}
