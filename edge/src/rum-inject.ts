/**
 * Injects the RUM beacon `<script src="/_rum/beacon.js" async></script>` into HTML once: at the
 * end of `<body>` (or the document end when there is no `</body>`), so a page that already
 * references the beacon anywhere before that point is left alone. Streams; never buffers the page.
 */

/** Returns the response with its HTML body rewritten (headers and status unchanged). */
export function injectBeacon(res: Response, src: string): Response {
  const tag = `<script src="${src}" async></script>`;
  let done = false;
  const path = src.split("?")[0] ?? src;
  return new HTMLRewriter()
    .on(`script[src*="${path}"]`, {
      element() {
        done = true;
      },
    })
    .on("body", {
      element(el) {
        el.onEndTag((end) => {
          if (!done) {
            end.before(tag, { html: true });
            done = true;
          }
        });
      },
    })
    .onDocument({
      end(end) {
        if (!done) {
          end.append(tag, { html: true });
          done = true;
        }
      },
    })
    .transform(res);
}

/** True for an HTML content type. */
export function isHtml(contentType: string | null): boolean {
  return contentType?.toLowerCase().startsWith("text/html") === true;
}
