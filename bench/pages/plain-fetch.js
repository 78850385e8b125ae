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
}
