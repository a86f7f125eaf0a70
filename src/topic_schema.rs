//! A topic's JSON Schema judged before any event is checked against it: what it may refer to, how many regular expressions it holds, and what checking one event can cost at most.
//!
//! Checking is cheap for the schemas people write, but any space's admin writes one: a few
//! hundred bytes of `anyOf` branches that each lead back to the root double the work at
//! every level of an event, and a hundred trivial `allOf` branches applied to every item
//! make a 64 KiB event take a fifth of a second. So the work a schema's check may do at one
//! value of an event is bounded from the schema alone ([`cost`]); every value takes a byte
//! of the event at least, so an event of `n` bytes is checked in at most `cost × n` steps.
//! A topic's events may be as large as keeps that under [`STEP_BUDGET`]
//! ([`max_event_bytes`]), and a schema with no bound, or one that leaves events less than
//! a kilobyte or two ([`MAX_COST`]), is refused.
//!
//! `g(s, k)`, for a subschema `s` applied once to a value, bounds the work done at any one
//! value `k` levels below it:
//!
//! - `g(s, 0) = own(s) + Σ g(t, 0)` over the subschemas `t` applied in place (to the same
//!   value: `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`,
//!   `$ref`), where `own` is the work of its keywords (an `enum`'s values, a pattern);
//! - `g(s, k) = Σ g(t, k) + max(members, items)`, where `members` is the most one member
//!   can be given: one `properties` entry (a name appears once) or `additionalProperties`
//!   (`max`), plus every `patternProperties` entry and `propertyNames` (`Σ`), each at
//!   `k - 1`; `items` the same for an array's items (one `prefixItems` entry or `items`,
//!   plus `contains`).
//!
//! [`cost`] is the largest `g(root, k)` for `k` up to [`MAX_EVENT_DEPTH`], so a schema that
//! refers to its root at each level (a tree) has a bound, and one that branches back to it
//! has none.

use crate::topic::MAX_EVENT_BYTES;
use serde_json::Value;
use std::collections::HashMap;

/// The most work, in steps, that checking one event may take: about 35 ms of one core of
/// the 2-core machine it was measured on (a step, one keyword at one value, took 11 to 17 ns
/// there, a pattern's step 1 to 5 ns a byte).
pub const STEP_BUDGET: u64 = 1 << 21;
/// The most steps a schema's check may take at one value of an event: its events may be up
/// to 2 KiB ([`max_event_bytes`]).
pub const MAX_COST: u64 = 1024;
/// The most regular expressions (`pattern`, `patternProperties` names) a schema may hold:
/// each is compiled for every check, and each may keep up to a few megabytes of state.
pub const MAX_PATTERNS: usize = 32;
/// The deepest an event may nest (objects and arrays within each other).
pub const MAX_EVENT_DEPTH: usize = 64;

/// What a regular expression costs per byte it reads, against one step of a plain keyword.
const PATTERN_STEPS: u64 = 4;

/// Why a topic's schema was refused before it was ever used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("a $ref in a topic's schema names a place in that schema (\"#\" or \"#/a/json/pointer\"), not {0:?}")]
    ForeignRef(String),
    #[error("a topic's schema has no subschema at {0:?}, which a $ref names")]
    Dangling(String),
    #[error("a topic's schema may not use {0} (it changes what references mean); name places with $ref \"#/...\"")]
    Keyword(String),
    #[error("a topic's schema holds {0} regular expressions (pattern, patternProperties); at most {MAX_PATTERNS}")]
    TooManyPatterns(usize),
    #[error("a topic's schema applies {0:?} to the same value again and again without end")]
    Loop(String),
    #[error(
        "checking an event against this schema could take {0} steps at one of its values; at most {MAX_COST} (fewer alternatives, references or patterns applied to the same values)"
    )]
    TooCostly(u64),
}

/// The most steps that checking one value of an event against `schema` takes, or why the
/// schema is refused.
pub fn cost(schema: &Value) -> Result<u64, SchemaError> {
    let patterns = count_patterns(schema);
    if patterns > MAX_PATTERNS {
        return Err(SchemaError::TooManyPatterns(patterns));
    }
    let graph = Graph::of(schema)?;
    let order = graph.in_place_order()?;
    let mut most = 0;
    let mut above = vec![0u64; graph.nodes.len()];
    for level in 0..=MAX_EVENT_DEPTH {
        // g(·, level), each subschema after those it applies in place.
        let mut here = vec![0u64; graph.nodes.len()];
        for &id in &order {
            let node = &graph.nodes[id];
            let own = if level == 0 {
                node.own
            } else {
                node.below(level, &above)
            };
            here[id] = node.in_place.iter().fold(own, |sum, &t| sum.saturating_add(here[t]));
        }
        most = most.max(here[0]);
        if most > MAX_COST {
            return Err(SchemaError::TooCostly(most));
        }
        if here.iter().all(|&g| g == 0) {
            break;
        }
        above = here;
    }
    Ok(most)
}

/// The largest event, in bytes of JSON, that a topic whose schema costs `cost` takes: the
/// check's work stays within [`STEP_BUDGET`], and no event is over [`MAX_EVENT_BYTES`].
pub fn max_event_bytes(cost: u64) -> usize {
    let within_budget = STEP_BUDGET / cost.max(1);
    usize::try_from(within_budget).map_or(MAX_EVENT_BYTES, |bytes| bytes.min(MAX_EVENT_BYTES))
}

/// How deep `value` nests: 0 for a number or a string, 1 for `[1]` or `{"a": 1}`.
pub fn depth(value: &Value) -> usize {
    // Iterative, so no event is too deep to be measured.
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, at)) = stack.pop() {
        deepest = deepest.max(at);
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|item| (item, at + 1))),
            Value::Object(members) => stack.extend(members.values().map(|member| (member, at + 1))),
            _ => {}
        }
    }
    deepest
}

/// Regular expressions anywhere in the document, referred to or not (a compiler may compile
/// them all): `pattern` strings and `patternProperties` names.
fn count_patterns(value: &Value) -> usize {
    match value {
        Value::Object(members) => members
            .iter()
            .map(|(key, member)| {
                let own = match (key.as_str(), member) {
                    ("pattern", Value::String(_)) => 1,
                    ("patternProperties", Value::Object(patterns)) => patterns.len(),
                    _ => 0,
                };
                own + count_patterns(member)
            })
            .sum(),
        Value::Array(items) => items.iter().map(count_patterns).sum(),
        _ => 0,
    }
}

/// Keywords that give a subschema a name of its own or make a reference depend on the path
/// taken: refused, so every `$ref` means the one place its pointer names.
const REFUSED: [&str; 6] = [
    "$anchor",
    "$dynamicAnchor",
    "$dynamicRef",
    "$recursiveAnchor",
    "$recursiveRef",
    "id",
];

/// A subschema and what its check costs: its own work and the subschemas it applies.
#[derive(Default)]
struct Node {
    /// The work of its own keywords at the value it is applied to.
    own: u64,
    /// Subschemas applied to the value itself.
    in_place: Vec<usize>,
    /// `properties`: each applies to one member at most.
    members_named: Vec<usize>,
    /// `patternProperties`: any may apply to a member, named or not.
    members_matched: Vec<usize>,
    /// `additionalProperties`: to the members no name or pattern matched.
    members_rest: Vec<usize>,
    /// Subschemas that apply to every member (or its name).
    members_all: Vec<usize>,
    /// Work at each member that does not recurse (matching `patternProperties`' names).
    member_steps: u64,
    /// `prefixItems` (or `items` as an array): each applies to one item at most.
    items_named: Vec<usize>,
    /// `items` (as one schema) and `additionalItems`: to the items after those.
    items_rest: Vec<usize>,
    /// Subschemas that apply to every item (`contains`, `unevaluatedItems`).
    items_all: Vec<usize>,
    /// `uniqueItems`: every value below the array is read (hashed), at every level.
    unique: bool,
    /// Whether it lists the value's members or items, to tell which were evaluated (when
    /// the schema uses `unevaluatedProperties` or `unevaluatedItems`).
    lists_children: bool,
}

impl Node {
    /// Its work at one value `level` (1 or more) levels below, through its members or
    /// items, given every subschema's bound one level up (`above`).
    fn below(&self, level: usize, above: &[u64]) -> u64 {
        let sum = |ids: &[usize]| ids.iter().fold(0u64, |sum, &t| sum.saturating_add(above[t]));
        let max = |ids: &[usize]| ids.iter().map(|&t| above[t]).max().unwrap_or(0);
        let any = |lists: [&[usize]; 4]| lists.iter().any(|ids| !ids.is_empty());
        let has_members = self.lists_children
            || self.member_steps > 0
            || any([
                &self.members_named,
                &self.members_matched,
                &self.members_rest,
                &self.members_all,
            ]);
        let has_items =
            self.unique || self.lists_children || any([&self.items_named, &self.items_rest, &self.items_all, &[]]);
        // Each member or item is looked at once, at the level just below.
        let look = |steps: u64| if level == 1 { steps } else { 0 };
        // A value is an object or an array, not both; a member takes one `properties` entry
        // or `additionalProperties`, an item one `prefixItems` entry or `items`.
        let member = if has_members {
            look(1 + self.member_steps)
                .saturating_add(max(&self.members_named).max(sum(&self.members_rest)))
                .saturating_add(sum(&self.members_matched))
                .saturating_add(sum(&self.members_all))
        } else {
            0
        };
        let item = if has_items {
            look(1)
                .saturating_add(u64::from(self.unique))
                .saturating_add(max(&self.items_named).max(sum(&self.items_rest)))
                .saturating_add(sum(&self.items_all))
        } else {
            0
        };
        member.max(item)
    }
}

/// Every subschema reachable from the root, known by where it is in the root's memory (a
/// `$ref` resolves to the same place), so no JSON pointer is kept per subschema.
struct Graph<'a> {
    root: &'a Value,
    nodes: Vec<Node>,
    /// Each node's subschema.
    values: Vec<&'a Value>,
    by_address: HashMap<*const Value, usize>,
    to_visit: Vec<usize>,
    /// Whether `unevaluatedProperties` or `unevaluatedItems` is used: then each subschema
    /// applied to an object or array also lists its members.
    tracks_evaluated: bool,
}

impl<'a> Graph<'a> {
    fn of(root: &'a Value) -> Result<Self, SchemaError> {
        let mut graph = Graph {
            root,
            nodes: Vec::new(),
            values: Vec::new(),
            by_address: HashMap::new(),
            to_visit: Vec::new(),
            tracks_evaluated: mentions_unevaluated(root),
        };
        graph.node(root);
        while let Some(id) = graph.to_visit.pop() {
            graph.nodes[id] = graph.visit(id)?;
        }
        Ok(graph)
    }

    /// The node of the subschema `value` (a part of the root), made and queued when first seen.
    fn node(&mut self, value: &'a Value) -> usize {
        let address: *const Value = value;
        if let Some(&id) = self.by_address.get(&address) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        self.values.push(value);
        self.by_address.insert(address, id);
        self.to_visit.push(id);
        id
    }

    fn visit(&mut self, id: usize) -> Result<Node, SchemaError> {
        let value = self.values[id];
        let mut node = Node {
            own: 1,
            ..Node::default()
        };
        let Value::Object(schema) = value else {
            // `true`, `false`, or what the compiler refuses anyway.
            return Ok(node);
        };
        for keyword in REFUSED {
            // `id` was draft 4's `$id`: refused only where it could be one (a string).
            let refused = match keyword {
                "id" => matches!(schema.get("id"), Some(Value::String(_))),
                _ => schema.contains_key(keyword),
            };
            if refused {
                return Err(SchemaError::Keyword(keyword.to_owned()));
            }
        }
        if id != 0 && schema.contains_key("$id") {
            return Err(SchemaError::Keyword("$id below the root".to_owned()));
        }
        node.lists_children = self.tracks_evaluated;
        // Each keyword is one check at least.
        node.own += schema.len() as u64;
        for (keyword, member) in schema {
            match (keyword.as_str(), member) {
                ("$ref", Value::String(target)) => {
                    let target = self.resolve(target)?;
                    node.in_place.push(self.node(target));
                }
                ("$ref", _) => return Err(SchemaError::ForeignRef(member.to_string())),
                ("not" | "if" | "then" | "else", sub) => node.in_place.push(self.node(sub)),
                ("allOf" | "anyOf" | "oneOf", Value::Array(subs)) => {
                    for sub in subs {
                        node.in_place.push(self.node(sub));
                    }
                }
                ("dependentSchemas", Value::Object(subs)) => {
                    for sub in subs.values() {
                        node.in_place.push(self.node(sub));
                    }
                }
                ("dependencies", Value::Object(subs)) => {
                    for sub in subs.values() {
                        match sub {
                            Value::Array(names) => node.own += names.len() as u64,
                            sub => node.in_place.push(self.node(sub)),
                        }
                    }
                }
                ("dependentRequired", Value::Object(lists)) => {
                    node.own += lists
                        .values()
                        .map(|l| l.as_array().map_or(0, Vec::len) as u64)
                        .sum::<u64>();
                }
                ("properties", Value::Object(subs)) => {
                    for sub in subs.values() {
                        node.members_named.push(self.node(sub));
                    }
                }
                ("patternProperties", Value::Object(subs)) => {
                    node.member_steps += PATTERN_STEPS * subs.len() as u64;
                    for sub in subs.values() {
                        node.members_matched.push(self.node(sub));
                    }
                }
                ("additionalProperties", sub) => node.members_rest.push(self.node(sub)),
                ("unevaluatedProperties" | "propertyNames", sub) => {
                    node.members_all.push(self.node(sub));
                }
                ("items" | "prefixItems", Value::Array(subs)) => {
                    for sub in subs {
                        node.items_named.push(self.node(sub));
                    }
                }
                ("items" | "additionalItems", sub) => node.items_rest.push(self.node(sub)),
                ("unevaluatedItems" | "contains", sub) => node.items_all.push(self.node(sub)),
                ("enum", values) => node.own += size(values),
                ("const", value) => node.own += size(value),
                ("required", Value::Array(names)) => node.own += names.len() as u64,
                ("pattern", Value::String(_)) => node.own += PATTERN_STEPS,
                ("uniqueItems", Value::Bool(unique)) => node.unique = *unique,
                ("format" | "minLength" | "maxLength", _) => node.own += 1,
                _ => {}
            }
        }
        Ok(node)
    }

    /// The place a `$ref` names: only `#` and `#/json/pointer` (percent-encoded, as in a URI).
    fn resolve(&self, reference: &str) -> Result<&'a Value, SchemaError> {
        let foreign = || SchemaError::ForeignRef(reference.to_owned());
        let dangling = || SchemaError::Dangling(reference.to_owned());
        let fragment = reference.strip_prefix('#').ok_or_else(foreign)?;
        let fragment = percent_decode(fragment).ok_or_else(foreign)?;
        if fragment.is_empty() {
            return Ok(self.root);
        }
        let path = fragment.strip_prefix('/').ok_or_else(foreign)?;
        let mut value = self.root;
        for token in path.split('/') {
            let token = token.replace("~1", "/").replace("~0", "~");
            value = match value {
                Value::Object(members) => members.get(&token),
                Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            }
            .ok_or_else(dangling)?;
        }
        if !(value.is_object() || value.is_boolean()) {
            return Err(dangling());
        }
        Ok(value)
    }

    /// The nodes ordered so that each comes after every subschema it applies in place; a
    /// loop of in-place subschemas (which would never move into the event) is refused.
    fn in_place_order(&self) -> Result<Vec<usize>, SchemaError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        let mut marks = vec![Mark::New; self.nodes.len()];
        let mut order = Vec::with_capacity(self.nodes.len());
        for start in 0..self.nodes.len() {
            if marks[start] != Mark::New {
                continue;
            }
            // Depth-first without recursion: (node, next in-place subschema to look at).
            let mut stack = vec![(start, 0usize)];
            marks[start] = Mark::Open;
            while let Some((id, next)) = stack.pop() {
                match self.nodes[id].in_place.get(next) {
                    Some(&sub) => {
                        stack.push((id, next + 1));
                        match marks[sub] {
                            Mark::New => {
                                marks[sub] = Mark::Open;
                                stack.push((sub, 0));
                            }
                            Mark::Open => return Err(SchemaError::Loop(self.pointer_of(sub))),
                            Mark::Done => {}
                        }
                    }
                    None => {
                        marks[id] = Mark::Done;
                        order.push(id);
                    }
                }
            }
        }
        Ok(order)
    }

    /// Where node `id`'s subschema is in the root, as a `$ref` would name it.
    fn pointer_of(&self, id: usize) -> String {
        fn path(from: &Value, to: *const Value, at: &mut Vec<String>) -> bool {
            if std::ptr::eq(from, to) {
                return true;
            }
            let mut within = |token: String, value: &Value| {
                at.push(token);
                let found = path(value, to, at);
                if !found {
                    at.pop();
                }
                found
            };
            match from {
                Value::Object(members) => members.iter().any(|(key, value)| within(escape(key), value)),
                Value::Array(items) => items.iter().enumerate().any(|(i, value)| within(i.to_string(), value)),
                _ => false,
            }
        }
        let mut at = Vec::new();
        path(self.root, self.values[id], &mut at);
        at.iter().fold("#".to_owned(), |pointer, token| pointer + "/" + token)
    }
}

fn mentions_unevaluated(value: &Value) -> bool {
    match value {
        Value::Object(members) => members.iter().any(|(key, member)| {
            key == "unevaluatedProperties" || key == "unevaluatedItems" || mentions_unevaluated(member)
        }),
        Value::Array(items) => items.iter().any(mentions_unevaluated),
        _ => false,
    }
}

/// What comparing a value with `value` may take: the values it holds (itself included, a
/// member's name as one more), and a step per 16 bytes of a string.
fn size(value: &Value) -> u64 {
    1 + match value {
        Value::Array(items) => items.iter().map(size).sum(),
        Value::Object(members) => members.values().map(size).sum::<u64>() + members.len() as u64,
        Value::String(text) => text.len() as u64 / 16,
        _ => 0,
    }
}

/// A JSON pointer's token: `~` as `~0`, `/` as `~1`.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `%XX` escapes decoded; none when one is malformed or the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_schemas_people_write_cost_little() {
        let deploy = json!({
            "type": "object",
            "required": ["service", "version"],
            "properties": {
                "service": { "type": "string", "pattern": "^[a-z-]+$" },
                "version": { "type": "string" },
                "by": { "type": "string", "format": "email" },
                "tags": { "type": "array", "items": { "type": "string" }, "uniqueItems": true },
                "env": { "enum": ["dev", "staging", "prod"] }
            },
            "additionalProperties": false
        });
        let bound = cost(&deploy).expect("accepted");
        assert!(bound > 1 && bound <= 32, "{bound}");
        assert_eq!(max_event_bytes(bound), MAX_EVENT_BYTES);
        assert_eq!(cost(&json!(true)), Ok(1));
        assert_eq!(cost(&json!({})), Ok(1));
    }

    #[test]
    fn a_tree_that_refers_to_its_root_at_each_level_has_a_bound() {
        let tree = json!({
            "type": "object",
            "properties": {
                "name": { "type": "string" },
                "children": { "type": "array", "items": { "$ref": "#" } }
            }
        });
        let bound = cost(&tree).expect("accepted");
        assert!(bound < 16, "{bound}");
        let with_defs = json!({
            "$defs": { "node": { "properties": { "next": { "$ref": "#/$defs/node" } } } },
            "$ref": "#/$defs/node"
        });
        assert!(cost(&with_defs).is_ok());
    }

    #[test]
    fn branching_back_to_the_root_at_each_level_has_no_bound() {
        // Two ways to the root for each item: 2^depth checks of the deepest value.
        let doubling = json!({ "items": { "anyOf": [{ "$ref": "#" }, { "$ref": "#" }] } });
        assert!(matches!(cost(&doubling), Err(SchemaError::TooCostly(_))));
        // The same with members: a member named "ab" matches both patterns, which lead back.
        let members = json!({ "patternProperties": { "a": { "$ref": "#" }, "b": { "$ref": "#" } } });
        assert!(matches!(cost(&members), Err(SchemaError::TooCostly(_))));
    }

    #[test]
    fn references_fanning_out_in_place_are_counted_with_their_multiplicity() {
        // Each level applies the next one four times: 4^6 checks of the same value.
        let mut defs = serde_json::Map::new();
        defs.insert("l0".into(), json!({ "type": "integer" }));
        for level in 1..=6 {
            let below = json!({ "$ref": format!("#/$defs/l{}", level - 1) });
            defs.insert(
                format!("l{level}"),
                json!({ "allOf": [below.clone(), below.clone(), below.clone(), below] }),
            );
        }
        let fan = json!({ "$defs": defs, "$ref": "#/$defs/l6" });
        match cost(&fan) {
            Err(SchemaError::TooCostly(bound)) => assert!(bound >= 4096, "{bound}"),
            other => panic!("{other:?}"),
        }
        // Three levels (64 checks of each value) are fine.
        let mut defs = serde_json::Map::new();
        defs.insert("l0".into(), json!(true));
        for level in 1..=3 {
            let below = json!({ "$ref": format!("#/$defs/l{}", level - 1) });
            defs.insert(
                format!("l{level}"),
                json!({ "allOf": [below.clone(), below.clone(), below.clone(), below] }),
            );
        }
        assert!(cost(&json!({ "$defs": defs, "$ref": "#/$defs/l3" })).is_ok());
    }

    #[test]
    fn a_member_takes_its_property_or_the_rest_and_an_item_its_place_or_the_rest() {
        // Each item is checked against the root once (by its place or as one of the rest),
        // each member once (by its name or as another): a bound, not a doubling.
        let tuple = json!({ "prefixItems": [{ "$ref": "#" }, { "$ref": "#" }], "items": { "$ref": "#" } });
        assert!(cost(&tuple).expect("accepted") < 16);
        let record = json!({ "properties": { "a": { "$ref": "#" } }, "additionalProperties": { "$ref": "#" } });
        assert!(cost(&record).expect("accepted") < 16);
        // A pattern may match a named member too: both count.
        let both = json!({ "properties": { "a": { "$ref": "#" } }, "patternProperties": { "a": { "$ref": "#" } } });
        assert!(matches!(cost(&both), Err(SchemaError::TooCostly(_))));
    }

    #[test]
    fn only_one_named_property_counts_for_a_member() {
        // Forty properties with an object of forty properties each: any member takes one.
        let inner: serde_json::Map<String, Value> = (0..40)
            .map(|i| (format!("p{i}"), json!({ "type": "string" })))
            .collect();
        let outer: serde_json::Map<String, Value> = (0..40)
            .map(|i| {
                (
                    format!("q{i}"),
                    json!({ "type": "object", "properties": inner.clone() }),
                )
            })
            .collect();
        let bound = cost(&json!({ "type": "object", "properties": outer })).expect("accepted");
        assert!(bound < 16, "{bound}");
    }

    #[test]
    fn too_many_patterns_are_refused() {
        let properties: serde_json::Map<String, Value> = (0..=MAX_PATTERNS)
            .map(|i| (format!("p{i}"), json!({ "pattern": "^\\w+$" })))
            .collect();
        assert_eq!(
            cost(&json!({ "properties": properties })),
            Err(SchemaError::TooManyPatterns(MAX_PATTERNS + 1))
        );
        let names: serde_json::Map<String, Value> =
            (0..=MAX_PATTERNS).map(|i| (format!("^{i}"), json!(true))).collect();
        // Counted in $defs too, referred to or not.
        assert!(matches!(
            cost(&json!({ "$defs": { "x": { "patternProperties": names } } })),
            Err(SchemaError::TooManyPatterns(_))
        ));
    }

    #[test]
    fn work_at_every_value_shrinks_the_largest_event_a_topic_takes() {
        // Thirty-two Unicode patterns on every item of every array, at every level.
        let patterns: Vec<Value> = (0..32).map(|i| json!({ "pattern": format!("\\w{{{i}}}") })).collect();
        let schema =
            json!({ "$defs": { "a": { "allOf": patterns, "items": { "$ref": "#/$defs/a" } } }, "$ref": "#/$defs/a" });
        let bound = cost(&schema).expect("accepted");
        assert!(bound >= 32 * PATTERN_STEPS, "{bound}");
        let largest = max_event_bytes(bound);
        assert!(largest < MAX_EVENT_BYTES / 4, "{largest}");
        assert!(largest as u64 * bound <= STEP_BUDGET);
        // A hundred and twenty trivial branches on every item: the same.
        let branches: Vec<Value> = (0..120).map(|_| json!({})).collect();
        let bound = cost(&json!({ "items": { "$ref": "#" }, "allOf": branches })).expect("accepted");
        assert!(bound > 120 && max_event_bytes(bound) < MAX_EVENT_BYTES / 2, "{bound}");
        // A cheap schema takes the largest events.
        assert_eq!(
            max_event_bytes(cost(&json!({ "type": "object" })).expect("accepted")),
            MAX_EVENT_BYTES
        );
    }

    #[test]
    fn unique_items_reads_every_value_below_at_every_level() {
        // Flat: a list of tags costs little.
        let tags = cost(&json!({ "type": "array", "uniqueItems": true, "items": { "type": "string" } }));
        assert!(tags.expect("accepted") < 8);
        // Nested: each level hashes all below it again, so the deepest value costs the depth.
        let nested =
            cost(&json!({ "type": "array", "uniqueItems": true, "items": { "$ref": "#" } })).expect("accepted");
        assert!(nested > MAX_EVENT_DEPTH as u64, "{nested}");
    }

    #[test]
    fn references_outside_the_schema_or_by_name_are_refused() {
        for reference in ["https://example.invalid/s.json", "other.json#/a", "#anchor", "urn:x"] {
            assert_eq!(
                cost(&json!({ "$ref": reference })),
                Err(SchemaError::ForeignRef(reference.to_owned())),
                "{reference}"
            );
        }
        assert_eq!(
            cost(&json!({ "$ref": "#/$defs/none" })),
            Err(SchemaError::Dangling("#/$defs/none".into()))
        );
        assert_eq!(
            cost(&json!({ "$ref": "#/type", "type": "string" })),
            Err(SchemaError::Dangling("#/type".into()))
        );
        assert!(matches!(
            cost(&json!({ "$dynamicRef": "#x" })),
            Err(SchemaError::Keyword(_))
        ));
        assert!(matches!(
            cost(&json!({ "items": { "$id": "https://example.invalid/i" } })),
            Err(SchemaError::Keyword(_))
        ));
        // A property called id is not draft 4's id.
        assert!(cost(&json!({ "properties": { "id": { "type": "string" } } })).is_ok());
        // Escaped pointers name what they escape.
        let escaped = json!({ "$defs": { "a/b": { "type": "string" }, "c d": true }, "allOf": [{ "$ref": "#/$defs/a~1b" }, { "$ref": "#/$defs/c%20d" }] });
        assert!(cost(&escaped).is_ok());
    }

    #[test]
    fn a_loop_that_never_moves_into_the_event_is_refused() {
        assert_eq!(
            cost(&json!({ "allOf": [{ "$ref": "#" }] })),
            Err(SchemaError::Loop("#".into()))
        );
        let two = json!({ "$defs": { "a": { "$ref": "#/$defs/b" }, "b": { "not": { "$ref": "#/$defs/a" } } }, "$ref": "#/$defs/a" });
        assert!(matches!(cost(&two), Err(SchemaError::Loop(_))));
    }

    #[test]
    fn depth_counts_nesting() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!([1])), 1);
        assert_eq!(depth(&json!({ "a": [{ "b": [] }] })), 3);
        let mut deep = json!(0);
        for _ in 0..1_000 {
            deep = json!([deep]);
        }
        assert_eq!(depth(&deep), 1_000);
    }
}
