//! `error_body`: a response body of any bytes, read by the core exactly as the browser reads it
//! (`request::envelope`, then `request::into_result`), for a range of statuses; serde_json reads
//! the same body as an independent oracle (`response::check`).

use oblien_user_client::core::request::HttpResponse;

/// Statuses the API and the proxies in front of it answer with, and a few odd ones.
const STATUSES: [u16; 18] = [
    0, 200, 201, 204, 299, 302, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504, 599,
];

pub fn run(data: &[u8]) {
    let text = super::text(data);
    for status in STATUSES {
        let response = HttpResponse {
            status,
            retry_after: (status == 429).then(|| "1".to_string()),
            request_id: Some("req_0123456789abcdef".to_string()),
            text: text.to_string(),
        };
        super::response::check(response);
    }
}
