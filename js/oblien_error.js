// The error class every rejection of oblien-user-client is an instance of. Plain JS so that it
// truly extends Error (stack traces, instanceof) in every bundler.
export class OblienError extends Error {
  constructor(code, message, status, retryAfter, requestId) {
    super(message);
    this.name = "OblienError";
    this.code = code;
    if (status !== undefined) this.status = status;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
    if (requestId !== undefined) this.requestId = requestId;
  }
}

export function makeOblienError(code, message, status, retryAfter, requestId) {
  return new OblienError(code, message, status, retryAfter, requestId);
}

export function isOblienError(value) {
  return value instanceof OblienError ||
    (value instanceof Error && value.name === "OblienError" && typeof value.code === "string");
}
