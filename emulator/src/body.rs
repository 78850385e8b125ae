//! Request parsing that never panics and always names the offending field.

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A body that could not be read: 413 when it was over the size limit, else `otherwise`.
pub fn unreadable(
    rejection: axum::extract::rejection::BytesRejection,
    otherwise: ApiError,
) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Request body is too large",
        )
    } else {
        otherwise
    }
}

/// A JSON request body. Malformed JSON, wrong types and missing fields become 400
/// `validation_error` naming the field; a body over the size limit becomes 413.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let otherwise = ApiError::new(
                StatusCode::BAD_REQUEST,
                "validation_error",
                "Could not read the request body",
            )
            .with("field", "body");
            unreadable(rejection, otherwise)
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON object body, mapping serde's errors to field-naming validation errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(
            "body",
            "a JSON object is required (application/json)",
        ));
    }
    // serde would also accept a struct written as an array: only an object is a valid body.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let valid_json = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        return Err(ApiError::validation(
            "body",
            if valid_json {
                "must be a JSON object"
            } else {
                "malformed JSON"
            },
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let inner = err.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::validation("body", "malformed JSON");
        }
        let path = err.path().to_string();
        let message = strip_position(&inner.to_string());
        // serde reports a missing field at the struct's level: name the field itself.
        let field = match missing_field_name(&message) {
            Some(name) if path == "." => name.to_string(),
            Some(name) => format!("{path}.{name}"),
            None if path == "." => "body".to_string(),
            None => path,
        };
        ApiError::validation(&field, message)
    })?;
    // Trailing garbage after the object.
    de.end()
        .map_err(|_| ApiError::validation("body", "malformed JSON"))?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn missing_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// Decoded query parameters (last value wins).
pub fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// An optional positive integer query parameter within `min..=max`.
pub fn query_u32(
    query: &HashMap<String, String>,
    name: &str,
    min: u32,
    max: u32,
) -> Result<Option<u32>, ApiError> {
    match query.get(name) {
        None => Ok(None),
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(v) if (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(ApiError::validation(
                name,
                format!("must be an integer between {min} and {max}"),
            )),
        },
    }
}
