/**
 * Injects the RUM beacon `<script src="/_rum/beacon.js" async></script>` into HTML once: at the
 * end of `<body>` (or the document end when there is no `</body>`), so a page that already
 * references the beacon (also a versioned `/_rum/beacon.<hash>.js`) before that point is left alone. Streams; never buffers the page.
 */

/** Returns the response with its HTML body rewritten (headers and status unchanged). */
export function injectBeacon(res: Response, src: string): Response {
  const tag = `<script src="${src}" async></script>`;
  let done = false;
  // `/_rum/beacon.js` also matches versioned copies (`/_rum/beacon.<hash>.js`) the collector serves.
  const path = (src.split("?")[0] ?? src).replace(/\.js$/, "");
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
