/**
 * One error type for every refusal: `status` + `publicMessage` go to the client, `detail`
 * (URLs, addresses, library messages) only to the log — imgproxy's split.
 */
export class ImageServiceError extends Error {
  readonly status: 400 | 403 | 404 | 405 | 413 | 415 | 422 | 429 | 502 | 503 | 504;
  readonly publicMessage: string;
  readonly detail: string;

  constructor(status: ImageServiceError["status"], publicMessage: string, detail = publicMessage) {
    super(`${publicMessage} (${detail})`);
    this.name = "ImageServiceError";
    this.status = status;
    this.publicMessage = publicMessage;
    this.detail = detail;
  }
}
