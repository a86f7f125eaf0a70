//! Hostile-input properties for every decoder at a door: WebSocket frames, stored events,
//! message bodies and Markdown. Run as tests with proptest; `PROPTEST_CASES=100000 cargo
//! test -p parley --lib fuzz` is the long mode.

#[cfg(test)]
mod tests {
    use crate::event::Event;
    use crate::protocol::{ClientFrame, MAX_FRAME_BYTES};
    use crate::rules::MessageBody;
    use proptest::prelude::*;

    /// Arbitrary JSON values, a few levels deep.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            ".{0,40}".prop_map(serde_json::Value::String),
            Just(serde_json::json!("00000000-0000-7000-8000-000000000001")),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("t".to_owned()),
                        Just("channel".to_owned()),
                        Just("body".to_owned()),
                        Just("message_id".to_owned()),
                        Just("after".to_owned()),
                        "[a-z_]{1,12}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// 1,000 cases per property in CI; `PROPTEST_CASES` sets more (the long mode).
    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000)
    }

    const TYPES: [&str; 6] = [
        "MessagePosted",
        "ChannelCreated",
        "ReactionAdded",
        "WebhookCreated",
        "ChannelRead",
        "NoSuchType",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        /// Any text as a socket frame: parsed or refused with an error, never a panic.
        #[test]
        fn frames_never_panic(text in ".{0,300}") {
            let _ = ClientFrame::parse(&text);
        }

        /// Structured garbage shaped like frames, including the frame tags.
        #[test]
        fn frame_shaped_json_never_panics(value in json(), tag in prop_oneof![
            Just("post"), Just("subscribe"), Just("typing"), Just("watch"), Just("away"), Just("x")
        ]) {
            let mut value = value;
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("t".into(), serde_json::json!(tag));
            }
            if let Ok(ClientFrame::Post { body, .. }) = ClientFrame::parse(&value.to_string()) {
                // A post that parses still meets the body rules at the engine; check they hold.
                let _ = MessageBody::parse(&body);
            }
        }

        /// Stored payloads of any shape, any type and version: an event or an error.
        #[test]
        fn event_decoding_never_panics(payload in json(), kind in 0..TYPES.len(), version in 0u32..4) {
            // The stored text reads as its tree does: the same event, or both refused.
            let text = Event::decode_text(TYPES[kind], version, &payload.to_string());
            let tree = Event::decode(TYPES[kind], version, payload);
            prop_assert_eq!(text.as_ref().ok(), tree.as_ref().ok());
            if let Ok(event) = tree {
                // Whatever decodes round-trips through its columns.
                let again = Event::decode(event.event_type(), event.schema_version(), event.payload());
                prop_assert_eq!(again.ok(), Some(event));
            }
        }

        /// Bodies: accepted ones are trimmed, non-empty and within the limit.
        #[test]
        fn bodies_are_bounded(raw in "\\PC{0,5000}") {
            if let Ok(body) = MessageBody::parse(&raw) {
                prop_assert!(!body.as_str().is_empty());
                prop_assert!(body.as_str().chars().count() <= MessageBody::MAX_CHARS);
                prop_assert_eq!(body.as_str(), body.as_str().trim());
            }
        }
    }

    #[test]
    fn oversized_frames_are_refused_unread() {
        let huge = format!(
            "{{\"t\":\"ping\",\"nonce\":1,\"pad\":\"{}\"}}",
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert!(ClientFrame::parse(&huge).is_err());
    }
}
