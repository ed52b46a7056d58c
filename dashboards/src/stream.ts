/**
 * Streamed pages: the shell and every panel's heading go out at once with a "Loading…" line;
 * each panel's body follows as soon as its query answers (in page order), and the stylesheet
 * hides a panel's loading line once anything follows it. All queries start together, so the
 * reader sees panels fill in without any client script.
 */
import { html, type SafeHtml } from "./html.ts";

/** One panel: its opening markup (card + heading), its body when ready, and its closing markup. */
export interface Panel {
  open: SafeHtml;
  body: Promise<SafeHtml>;
  close: SafeHtml;
}

export type Part = SafeHtml | Panel;

/** A card whose body is `body` once it resolves; `label` names what is loading. */
export function panel(cls: string, head: SafeHtml, label: string, body: Promise<SafeHtml>): Panel {
  return {
    open: html`<section class="card ${cls}">${head}<p class="loading muted small" role="status">Loading ${label}…</p>`,
    body,
    close: html`</section>`,
  };
}

/** A panel whose rendering failed says so in place (the rest of the page still streams); details go to the log. */
async function bodyOrProblem(body: Promise<SafeHtml>): Promise<SafeHtml> {
  try {
    return await body;
  } catch (err) {
    console.error(
      `dashboards: panel failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    return html`<div class="notice error" role="alert"><strong>This panel failed</strong><br>The dashboards hit an internal error; the Worker log has the details.</div>`;
  }
}

/** The whole page as one string (tests, exports and clients that do not read streams). */
export async function renderParts(parts: readonly Part[]): Promise<string> {
  let out = "";
  for (const p of parts)
    out += "body" in p ? p.open.value + (await bodyOrProblem(p.body)).value + p.close.value : p.value;
  return out;
}

/** Streams `parts` in order; a panel's body is written when its promise resolves. */
export function streamParts(parts: readonly Part[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    async start(controller) {
      for (const p of parts) {
        if ("body" in p) {
          controller.enqueue(enc.encode(p.open.value));
          controller.enqueue(enc.encode((await bodyOrProblem(p.body)).value));
          controller.enqueue(enc.encode(p.close.value));
        } else controller.enqueue(enc.encode(p.value));
      }
      controller.close();
    },
  });
}
