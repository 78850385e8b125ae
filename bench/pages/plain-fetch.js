// The baseline: a small hand-written fetch wrapper making the same calls as the client, with the
// same request (Authorization: Bearer, CORS mode, no cookies) and `response.json()`. No refresh,
// no retries, no timeout, no error mapping: the least an app could write.
export class PlainClient {
  constructor({ token, baseUrl, gatewayUrl }) {
    this.token = token;
    this.baseUrl = baseUrl;
    this.gatewayUrl = gatewayUrl;
  }
  async get(url, token = this.token) {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, mode: "cors", credentials: "omit" });
    if (!res.ok) throw new Error(`HTTP ${res.status} for GET ${new URL(url).pathname}`);
    return res.json();
  }
  listWorkspaces() {
    return this.get(`${this.baseUrl}/workspace`);
  }
  readFile(gatewayToken, path) {
    return this.get(`${this.gatewayUrl}/files/read?path=${encodeURIComponent(path)}`, gatewayToken);
  }
  /**
   * `POST /exec/stream` read the way the official SDK reads it (a body reader, a streaming
   * TextDecoder, lines split on `\n`, `event:` / `data: ` lines, JSON.parse, base64 decoded with
   * atob): the stdout bytes it saw, and whether an exit came.
   */
  async streamExec(gatewayToken, cmd) {
    const res = await fetch(`${this.gatewayUrl}/exec/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${gatewayToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ cmd }),
      mode: "cors",
      credentials: "omit",
    });
    if (!res.ok) throw new Error(`HTTP ${res.status} for POST /exec/stream`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let event = "";
    let bytes = 0;
    let exited = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("event: ")) event = line.slice(7).trim();
        else if (line.startsWith("data: ")) {
          const data = JSON.parse(line.slice(6));
          if (event === "stdout") bytes += atob(data.data).length;
          if (event === "exit") exited = true;
          event = "";
        }
      }
    }
    return { bytes, exited };
  }
}
