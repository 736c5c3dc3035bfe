//! How the key table in [`super::keys`] becomes code. `declare_keys!` turns each declaration
//! into an entry of [`KEYS`](super::keys::KEYS) (its name, documentation, schema and reader), a
//! field of `Fields` (what a mapping of keys holds once read), its part of the target merge and
//! its place in the [`Spec`](crate::model::Spec), so that nothing keeps a second list in step.

use std::collections::BTreeMap;

use marked_yaml::Node;
use serde_json::{Map, Value};

use super::Validator;
use super::keys::{Fields, KEYS};

/// Where a key may be written, and what a target does with the default image's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InTargets {
    /// Top level only.
    No,
    /// A list: the target's items are added to the default image's.
    Add,
    /// A mapping: the target's entries are added, replacing any of the same name.
    Merge,
    /// A single value: the target's replaces the default image's.
    Replace,
    /// Only in a target: it says something about the target, not the image.
    Only,
}

/// The mapping a key is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    TopLevel,
    Target,
}

/// A key of the spec: everything about it but its reader's body, which is a method of the
/// validator named here.
pub struct Key {
    pub name: &'static str,
    /// What the reference says its value is: `path or list of paths`.
    pub type_name: &'static str,
    pub targets: InTargets,
    /// What it means, in the reference's words. `{target keys}` stands for the keys a target
    /// may set.
    pub(super) meaning: &'static str,
    /// The JSON Schema of its value, without the description.
    pub(super) schema: fn() -> Value,
    /// Reads a present value into the key's slot; the reader reports what is wrong with it.
    pub(crate) read: fn(&mut Validator<'_>, &Node, &mut Fields),
}

impl Key {
    pub fn allowed_at(&self, at: At) -> bool {
        match at {
            At::TopLevel => self.targets != InTargets::Only,
            At::Target => self.targets != InTargets::No,
        }
    }

    /// What the key means, for the reference table and the schema's hover text.
    pub fn meaning(&self) -> String {
        let target_keys: Vec<String> = names_at(At::Target)
            .iter()
            .map(|name| format!("`{name}`"))
            .collect();
        self.meaning
            .replace("{target keys}", &target_keys.join(", "))
    }

    /// The JSON Schema of the key's value, described by its meaning.
    pub fn schema(&self) -> Value {
        let mut schema = (self.schema)();
        if let Value::Object(fields) = &mut schema {
            fields.insert("description".into(), Value::String(self.meaning()));
        }
        schema
    }
}

/// The keys allowed in a mapping, in the reference's order.
pub fn names_at(at: At) -> Vec<&'static str> {
    KEYS.iter()
        .filter(|key| key.allowed_at(at))
        .map(|key| key.name)
        .collect()
}

/// A key of a key's own mapping (`index: {url, …}`): its name and its schema, described.
pub struct SubKey {
    pub name: &'static str,
    pub(super) schema: fn() -> Value,
}

pub(super) fn sub_key_names(keys: &[SubKey]) -> Vec<&'static str> {
    keys.iter().map(|key| key.name).collect()
}

/// The `properties` of a schema for a mapping of these keys.
pub(super) fn sub_properties(keys: &[SubKey]) -> Map<String, Value> {
    keys.iter()
        .map(|key| (key.name.to_string(), (key.schema)()))
        .collect()
}

/// A list in a target adds the items the default image lacks.
pub(super) fn add<T: Clone + PartialEq>(into: &mut Vec<T>, more: &[T]) {
    for item in more {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

/// A single value in a target replaces the default image's.
pub(super) fn replace<T: Clone>(into: &mut Option<T>, more: &Option<T>) {
    if more.is_some() {
        into.clone_from(more);
    }
}

/// A mapping in a target merges into the default image's; its entries win.
pub(super) trait Entries {
    fn merge(&mut self, more: &Self);
}

/// Entries in the order written: a replaced one moves to the end, as if written last.
impl<K: Clone + PartialEq, V: Clone> Entries for Vec<(K, V)> {
    fn merge(&mut self, more: &Self) {
        for (name, value) in more {
            self.retain(|(n, _)| n != name);
            self.push((name.clone(), value.clone()));
        }
    }
}

impl<K: Clone + Ord, V: Clone> Entries for BTreeMap<K, V> {
    fn merge(&mut self, more: &Self) {
        self.extend(more.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// Declares the keys: see `keys.rs` for the entries and this module's docs for what each
/// becomes. `spec:` says how the key's value lands in the `Spec`: `direct` as read, `defaulted`
/// as a [`Defaulted`](crate::source::Defaulted) of what was read, `derived` worked out by the
/// loader (a field of [`Derived`](super::Derived)), `none` not at all.
macro_rules! declare_keys {
    ($(
        $field:ident: $slot:ty {
            name: $name:literal,
            type: $type_name:literal,
            targets: $targets:ident,
            read: $read:ident,
            spec: $spec:ident,
            meaning: $meaning:literal,
            schema: $schema:expr $(,)?
        }
    )*) => {
        /// Every key of spec v1, in the order the reference documents them.
        pub const KEYS: &[Key] = &[$(
            Key {
                name: $name,
                type_name: $type_name,
                targets: InTargets::$targets,
                meaning: $meaning,
                schema: || $schema,
                read: |v, node, fields| fields.$field = v.$read(node, $name),
            },
        )*];

        /// What one mapping of keys says, as read: the spec's own, or a target's.
        #[derive(Default)]
        pub(crate) struct Fields {
            $(pub(super) $field: $slot,)*
        }

        impl Fields {
            /// A target on top of the default image, as each key's `targets` says.
            pub(super) fn add(&mut self, target: &Fields) {
                $(declare_keys!(@add $targets, self.$field, target.$field);)*
            }

            pub(super) fn into_spec(self, derived: $crate::validate::Derived) -> $crate::model::Spec {
                let fields = self;
                // `target` and `top` are the fields of a `Spec` that no key sets.
                declare_keys!(@spec fields, derived, [target: derived.target, top: derived.top,] $($field $spec)*)
            }
        }
    };

    (@add No, $into:expr, $more:expr) => {};
    (@add Only, $into:expr, $more:expr) => {};
    (@add Add, $into:expr, $more:expr) => {
        $crate::validate::declare::add(&mut $into, &$more)
    };
    (@add Merge, $into:expr, $more:expr) => {
        $crate::validate::declare::Entries::merge(&mut $into, &$more)
    };
    (@add Replace, $into:expr, $more:expr) => {
        $crate::validate::declare::replace(&mut $into, &$more)
    };

    // The `Spec` literal, one key at a time, leaving out the keys it has no field for.
    (@spec $fields:ident, $derived:ident, [$($out:tt)*]) => {
        $crate::model::Spec { $($out)* }
    };
    (@spec $fields:ident, $derived:ident, [$($out:tt)*] $field:ident direct $($rest:tt)*) => {
        declare_keys!(@spec $fields, $derived, [$($out)* $field: $fields.$field,] $($rest)*)
    };
    (@spec $fields:ident, $derived:ident, [$($out:tt)*] $field:ident defaulted $($rest:tt)*) => {
        declare_keys!(@spec $fields, $derived, [$($out)* $field: $fields.$field.into(),] $($rest)*)
    };
    (@spec $fields:ident, $derived:ident, [$($out:tt)*] $field:ident derived $($rest:tt)*) => {
        declare_keys!(@spec $fields, $derived, [$($out)* $field: $derived.$field,] $($rest)*)
    };
    (@spec $fields:ident, $derived:ident, [$($out:tt)*] $field:ident none $($rest:tt)*) => {
        declare_keys!(@spec $fields, $derived, [$($out)*] $($rest)*)
    };
}

pub(super) use declare_keys;
