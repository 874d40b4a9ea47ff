//! Namespace names as label values, bounded: namespaces are user input (dynamic namespaces are
//! created by whatever name a client asks for), so only the first [`MAX_NAMESPACES`] get a
//! label of their own; the others share `other`.

use std::collections::HashSet;

use parking_lot::Mutex;

/// How many namespaces get their own label value.
pub const MAX_NAMESPACES: usize = 64;

/// The label value every namespace past the bound shares.
pub(crate) const OTHER: &str = "other";

/// The namespaces that have a label of their own.
#[derive(Debug, Default)]
pub(crate) struct NamespaceLabels {
    named: Mutex<HashSet<String>>,
}

impl NamespaceLabels {
    /// The label value of namespace `name`.
    pub(crate) fn of(&self, name: &str) -> String {
        let mut named = self.named.lock();
        if named.contains(name) {
            return name.to_owned();
        }
        if named.len() < MAX_NAMESPACES {
            named.insert(name.to_owned());
            return name.to_owned();
        }
        OTHER.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        let labels = NamespaceLabels::default();
        for i in 0..MAX_NAMESPACES {
            assert_eq!(labels.of(&format!("/n{i}")), format!("/n{i}"));
        }
        assert_eq!(labels.of("/n3"), "/n3", "a known one keeps its label");
        assert_eq!(labels.of("/late"), OTHER);
    }
}
