//! `crossTab`: clients of one origin that hold the same identity share one refresh. The
//! decisions: which group a token belongs to, which token is fresher, and the group's messages
//! (JSON over a BroadcastChannel, in memory only). `js/cross_tab.js` owns the channel and the lock,
//! and asks these through `bindings::cross_tab`.

use super::json::{self, Value};
use super::token::{Claims, HeldToken};
use crate::prelude::*;

/// The BroadcastChannel (and, with `:refresh`, the Web Lock) of a group: the app's `name` and the
/// token's identity (scope, namespace or workspace, label), so identities never share a channel.
pub fn group_name(name: &str, claims: &Claims) -> String {
    let mut group = String::from("oblien-user-client:");
    group.push_str(name);
    group.push(':');
    group.push_str(&claims.identity());
    group
}

/// A token from the group is taken only for the same identity and when it expires later than the
/// one held (server times only).
pub fn takes(candidate: &Claims, held: Option<&HeldToken>) -> bool {
    held.is_none_or(|h| h.claims.identity() == candidate.identity() && candidate.exp > h.claims.exp)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupMessage {
    /// A tab joined: whoever holds a token answers with it.
    Hello,
    /// A token of the group (after a refresh, a `setToken`, or to a newcomer).
    Token(String),
}

impl GroupMessage {
    pub fn encode(&self) -> String {
        match self {
            GroupMessage::Hello => String::from(r#"{"t":"hello"}"#),
            GroupMessage::Token(token) => {
                // A JWT is base64url and dots: nothing to escape.
                let mut text = String::from(r#"{"t":"token","token":""#);
                text.push_str(token);
                text.push_str(r#""}"#);
                text
            }
        }
    }

    /// `None` for anything that is not one of ours (another library's message, garbage).
    pub fn decode(text: &str) -> Option<GroupMessage> {
        let members = json::object(text)?;
        let field = |key| match json::last(&members, key) {
            Some(Value::String(s)) => Some(s.decode().into_owned()),
            _ => None,
        };
        match field("t")?.as_str() {
            "hello" => Some(GroupMessage::Hello),
            "token" => field("token")
                .filter(|t| t.len() <= 16 * 1024)
                .map(GroupMessage::Token),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::token::{Arrival, TokenScope};

    fn claims(namespace: &str, label: Option<&str>, exp: f64) -> Claims {
        Claims {
            scope: TokenScope::Namespace,
            namespace: Some(namespace.into()),
            workspace_id: None,
            label: label.map(String::from),
            iat: Some(exp - 900.0),
            exp,
        }
    }

    #[test]
    fn groups_follow_identity_and_name() {
        let a = claims("acme", Some("alice"), 2000.0);
        assert_eq!(
            group_name("app", &a),
            group_name("app", &claims("acme", Some("alice"), 9.0))
        );
        assert_ne!(
            group_name("app", &a),
            group_name("app", &claims("globex", Some("alice"), 9.0))
        );
        assert_ne!(
            group_name("app", &a),
            group_name("app", &claims("acme", Some("bob"), 9.0))
        );
        assert_ne!(group_name("app", &a), group_name("other", &a));
    }

    #[test]
    fn only_a_later_token_of_the_same_identity_is_taken() {
        let at = Arrival {
            wall_ms: 0.0,
            mono_ms: 0.0,
        };
        let held = HeldToken::new("t".into(), claims("acme", None, 2000.0), at);
        assert!(takes(&claims("acme", None, 2100.0), Some(&held)));
        assert!(!takes(&claims("acme", None, 2000.0), Some(&held)));
        assert!(!takes(&claims("globex", None, 9999.0), Some(&held)));
        assert!(takes(&claims("acme", None, 1.0), None));
    }

    #[test]
    fn messages_round_trip_and_strangers_are_ignored() {
        for m in [
            GroupMessage::Hello,
            GroupMessage::Token("eyJa.eyJb.c".into()),
        ] {
            assert_eq!(GroupMessage::decode(&m.encode()), Some(m));
        }
        assert_eq!(GroupMessage::decode(r#"{"t":"other"}"#), None);
        assert_eq!(GroupMessage::decode("hello"), None);
        assert_eq!(GroupMessage::decode(r#"{"t":"token","token":7}"#), None);
    }
}
