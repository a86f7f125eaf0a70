//! Tagged enums (`{"t": "post", ...}`, `{"type": ..., "data": {...}}`) read tag first, without serde's buffer.
//!
//! serde's derived `Deserialize` for an internally or adjacently tagged enum reads the
//! whole object into a private buffer (`Content`) before it looks at the tag, and then
//! reads every variant again out of that buffer: each field type's reading is compiled
//! twice, once per source. In the WASM client that second copy was about a tenth of the
//! code. Every object Parley reads in the browser was written by serde with the tag
//! first (the server's frames, the tabs' notes, IndexedDB's rows, server functions'
//! answers), so there it is read straight: the tag, then the variant from the rest of the
//! object. The server also reads what other programs send (a bot's frames, a request's
//! body), where JSON's keys may come in any order: when the tag is not first, it reads the
//! object into a `serde_json::Value` and again from there, tag first. No maintained crate
//! does this without a procedural macro of its own; this is two small types and one
//! `macro_rules!`.
//!
//! [`tagged_enum!`](crate::tagged_enum) declares such an enum once: the enum as written,
//! with serde's attribute for writing it, and a copy of it without its tag (an
//! externally tagged enum to serde, so serde's own derive reads each variant by name,
//! with every variant and field attribute as written) that [`read`] hands the rest of
//! the object to.

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, VariantAccess, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};
use std::fmt;
use std::marker::PhantomData;

/// Where an enum's tag is: its key, and for an adjacently tagged enum the key of the
/// variant's fields.
#[derive(Clone, Copy, Debug)]
pub struct Tag {
    key: &'static str,
    content: Option<&'static str>,
}

impl Tag {
    /// An internally tagged enum: `{"<key>": "variant", "field": ...}`.
    pub const fn internal(key: &'static str) -> Self {
        Self { key, content: None }
    }

    /// An adjacently tagged enum: `{"<key>": "variant", "<content>": {...}}`.
    pub const fn adjacent(key: &'static str, content: &'static str) -> Self {
        Self {
            key,
            content: Some(content),
        }
    }
}

/// Reads an object whose `tag` names the variant: `W` is the enum's copy without its tag.
pub fn read<'de, D, W>(deserializer: D, tag: Tag) -> Result<W, D::Error>
where
    D: Deserializer<'de>,
    W: Deserialize<'de>,
{
    deserializer.deserialize_map(TagFirst { tag, wire: PhantomData })
}

struct TagFirst<W> {
    tag: Tag,
    wire: PhantomData<W>,
}

impl<'de, W: Deserialize<'de>> Visitor<'de> for TagFirst<W> {
    type Value = W;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with a `{}` field", self.tag.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<W, A::Error> {
        let first = map.next_key::<String>()?;
        if first.as_deref() == Some(self.tag.key) {
            return W::deserialize(Variant { map, tag: self.tag });
        }
        tag_elsewhere(first, map, self.tag)
    }
}

/// In the browser: every object it reads was written tag first, so one that is not is refused.
#[cfg(target_arch = "wasm32")]
fn tag_elsewhere<'de, A: MapAccess<'de>, W: Deserialize<'de>>(
    _first: Option<String>,
    _map: A,
    tag: Tag,
) -> Result<W, A::Error> {
    Err(de::Error::custom(format_args!(
        "`{}` must be the object's first field",
        tag.key
    )))
}

/// On the server: the object is read whole, its tag moved first, and read again.
#[cfg(not(target_arch = "wasm32"))]
fn tag_elsewhere<'de, A: MapAccess<'de>, W: Deserialize<'de>>(
    first: Option<String>,
    mut map: A,
    tag: Tag,
) -> Result<W, A::Error> {
    use serde_json::Value;
    let Some(first) = first else {
        return Err(de::Error::missing_field(tag.key));
    };
    let mut entries = vec![(first, map.next_value::<Value>()?)];
    while let Some(entry) = map.next_entry::<String, Value>()? {
        entries.push(entry);
    }
    let at = entries
        .iter()
        .position(|(key, _)| key == tag.key)
        .ok_or_else(|| de::Error::missing_field(tag.key))?;
    entries[..=at].rotate_right(1);
    let mut rest = de::value::MapDeserializer::<_, serde_json::Error>::new(entries.into_iter());
    let read = rest
        .next_key::<IgnoredAny>()
        .and_then(|_| W::deserialize(Variant { map: &mut rest, tag }))
        .and_then(|wire| rest.end().map(|()| wire));
    read.map_err(de::Error::custom)
}

/// The rest of the object once its tag's key is read: to serde's derive for the copy
/// without a tag, an externally tagged enum whose variant is the tag's value.
struct Variant<A> {
    map: A,
    tag: Tag,
}

impl<'de, A: MapAccess<'de>> Variant<A> {
    /// An adjacently tagged enum's next key: its content's.
    fn content_key(&mut self, content: &'static str) -> Result<(), A::Error> {
        match self.map.next_key::<String>()? {
            Some(key) if key == content => Ok(()),
            Some(key) => Err(de::Error::custom(format_args!(
                "unknown field `{key}`, expected `{content}`"
            ))),
            None => Err(de::Error::missing_field(content)),
        }
    }

    /// Nothing may follow an adjacently tagged enum's content.
    fn end(mut self, content: &'static str) -> Result<(), A::Error> {
        match self.map.next_key::<String>()? {
            None => Ok(()),
            Some(key) => Err(de::Error::custom(format_args!("unexpected `{key}` after `{content}`"))),
        }
    }
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Variant<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, A::Error> {
        Err(de::Error::custom("a tagged object is read as an enum"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Variant<A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(mut self, seed: S) -> Result<(S::Value, Self), A::Error> {
        let variant = self.map.next_value_seed(seed)?;
        Ok((variant, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    fn unit_variant(mut self) -> Result<(), A::Error> {
        // As serde reads a unit variant: whatever else the object holds is skipped.
        while self.map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(mut self, seed: S) -> Result<S::Value, A::Error> {
        match self.tag.content {
            None => seed.deserialize(de::value::MapAccessDeserializer::new(self.map)),
            Some(content) => {
                self.content_key(content)?;
                let value = self.map.next_value_seed(seed)?;
                self.end(content).map(|()| value)
            }
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, A::Error> {
        Err(de::Error::custom("a tagged enum has no tuple variants"))
    }

    fn struct_variant<V: Visitor<'de>>(
        mut self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        match self.tag.content {
            None => visitor.visit_map(self.map),
            Some(content) => {
                self.content_key(content)?;
                let value = self.map.next_value_seed(Struct { fields, visitor })?;
                self.end(content).map(|()| value)
            }
        }
    }
}

/// An adjacently tagged variant's fields, read as the struct they are.
struct Struct<V> {
    fields: &'static [&'static str],
    visitor: V,
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for Struct<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        deserializer.deserialize_struct("", self.fields, self.visitor)
    }
}

/// Declares a tagged enum read by [`read`]: the enum as written, with the `#[serde(...)]`
/// attribute given first (`tag`, then `content` for an adjacently tagged enum, then
/// `rename_all`), and its `Deserialize`. Variants are unit or struct variants; the enum
/// derives `Serialize` itself, not `Deserialize`.
#[macro_export]
macro_rules! tagged_enum {
    (
        #[serde(tag = $tag:literal $(, content = $content:literal)? $(, rename_all = $rename:literal)?)]
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident $({
                    $( $(#[$field_meta:meta])* $field:ident : $field_type:ty ),* $(,)?
                })?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[serde(tag = $tag $(, content = $content)? $(, rename_all = $rename)?)]
        $vis enum $name {
            $(
                $(#[$variant_meta])*
                $variant $({ $( $(#[$field_meta])* $field : $field_type ),* })?
            ),*
        }

        const _: () = {
            /// The enum without its tag, for serde's derive to read each variant by name.
            #[derive(::serde::Deserialize)]
            $(#[serde(rename_all = $rename)])?
            enum Wire {
                $(
                    $(#[$variant_meta])*
                    $variant $({ $( $(#[$field_meta])* $field : $field_type ),* })?
                ),*
            }

            impl ::core::convert::From<Wire> for $name {
                fn from(wire: Wire) -> Self {
                    match wire {
                        $( Wire::$variant $({ $($field),* })? => $name::$variant $({ $($field),* })? ),*
                    }
                }
            }

            impl<'de> ::serde::Deserialize<'de> for $name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                    let tag = $crate::tagged_enum!(@tag $tag $(, $content)?);
                    $crate::tagged::read::<D, Wire>(deserializer, tag).map(Self::from)
                }
            }
        };
    };
    (@tag $tag:literal) => { $crate::tagged::Tag::internal($tag) };
    (@tag $tag:literal, $content:literal) => { $crate::tagged::Tag::adjacent($tag, $content) };
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    crate::tagged_enum! {
        #[serde(tag = "t", rename_all = "snake_case")]
        /// An enum as the wire's are.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
        enum Frame {
            /// A struct variant, one field left out when empty.
            Post {
                body: String,
                #[serde(default, skip_serializing_if = "Option::is_none")]
                reply_to: Option<u64>,
            },
            Ping { nonce: u64 },
            Gone,
        }
    }

    crate::tagged_enum! {
        #[serde(tag = "type", content = "data")]
        #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
        enum Logged {
            Renamed { name: String },
            Posted { body: String, frame: Frame },
            Cleared,
        }
    }

    fn frames() -> Vec<Frame> {
        vec![
            Frame::Post {
                body: "hi".into(),
                reply_to: Some(7),
            },
            Frame::Post {
                body: "hi".into(),
                reply_to: None,
            },
            Frame::Ping { nonce: 3 },
            Frame::Gone,
        ]
    }

    #[test]
    fn what_serde_writes_is_read_back_tag_first() {
        for frame in frames() {
            let text = serde_json::to_string(&frame).unwrap_or_default();
            assert!(text.starts_with(r#"{"t":"#), "{text}");
            assert_eq!(serde_json::from_str::<Frame>(&text).ok(), Some(frame.clone()));
            let logged = Logged::Posted {
                body: "x".into(),
                frame: frame.clone(),
            };
            let text = serde_json::to_string(&logged).unwrap_or_default();
            assert!(text.starts_with(r#"{"type":"Posted","data":"#), "{text}");
            assert_eq!(serde_json::from_str::<Logged>(&text).ok(), Some(logged));
        }
        for logged in [Logged::Renamed { name: "n".into() }, Logged::Cleared] {
            let text = serde_json::to_string(&logged).unwrap_or_default();
            assert_eq!(serde_json::from_str::<Logged>(&text).ok(), Some(logged));
        }
    }

    #[test]
    fn the_tag_anywhere_else_is_read_on_the_server() {
        // Keys in another order (a `serde_json::Value` sorts them; other programs write
        // them as they please): read as serde's derive reads them.
        let read = |text: &str| serde_json::from_str::<Frame>(text).map_err(|e| e.to_string());
        assert_eq!(
            read(r#"{"body":"hi","reply_to":7,"t":"post"}"#),
            Ok(Frame::Post {
                body: "hi".into(),
                reply_to: Some(7)
            })
        );
        assert_eq!(read(r#"{"nonce":3,"t":"ping"}"#), Ok(Frame::Ping { nonce: 3 }));
        assert_eq!(
            serde_json::from_value::<Frame>(serde_json::json!({ "t": "post", "body": "x" })).ok(),
            Some(Frame::Post {
                body: "x".into(),
                reply_to: None
            })
        );
        let logged = serde_json::json!({ "data": { "name": "n" }, "type": "Renamed" });
        assert_eq!(
            serde_json::from_value::<Logged>(logged).ok(),
            Some(Logged::Renamed { name: "n".into() })
        );
    }

    #[test]
    fn bad_objects_are_refused_with_what_is_wrong() {
        let error = |text: &str| serde_json::from_str::<Frame>(text).err().map(|e| e.to_string());
        for (text, wanted) in [
            (r#"{"body":"hi"}"#, "missing field `t`"),
            ("{}", "missing field `t`"),
            (r#"{"t":"shout","body":"hi"}"#, "unknown variant `shout`"),
            (r#"{"t":"post"}"#, "missing field `body`"),
            (r#"{"t":"ping","nonce":"three"}"#, "invalid type"),
            (r#"{"t":7}"#, "invalid type"),
            (r#"["post","hi"]"#, "invalid type"),
            (r#"{"t":"ping","nonce":1} {}"#, "trailing characters"),
        ] {
            let got = error(text);
            assert!(got.as_deref().is_some_and(|e| e.contains(wanted)), "{text}: {got:?}");
        }
        let error = |text: &str| serde_json::from_str::<Logged>(text).err().map(|e| e.to_string());
        for (text, wanted) in [
            (r#"{"type":"Renamed"}"#, "missing field `data`"),
            (r#"{"type":"Renamed","body":{"name":"n"}}"#, "unknown field `body`"),
            (
                r#"{"type":"Renamed","data":{"name":"n"},"more":1}"#,
                "unexpected `more` after `data`",
            ),
            (r#"{"type":"Renamed","data":{}}"#, "missing field `name`"),
        ] {
            let got = error(text);
            assert!(got.as_deref().is_some_and(|e| e.contains(wanted)), "{text}: {got:?}");
        }
    }

    #[test]
    fn a_unit_variant_skips_what_else_its_object_holds() {
        assert_eq!(
            serde_json::from_str::<Frame>(r#"{"t":"gone","why":[1,{"a":2}]}"#).ok(),
            Some(Frame::Gone)
        );
    }
}
