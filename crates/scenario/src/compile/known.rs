//! The variables known at a point of a scenario: looked up for every name every template
//! reads, so a lookup is constant time (a list made 50,000 chained vars quadratic).

use std::collections::HashMap;

/// Variable names in the order first defined, with how many times each was defined (a
/// scenario var may shadow an environment var of the same name).
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    order: Vec<String>,
    counts: HashMap<String, usize>,
}

impl Known {
    /// Defines `name` (again).
    pub(crate) fn push(&mut self, name: impl Into<String>) {
        let name = name.into();
        match self.counts.get_mut(&name) {
            Some(n) => *n += 1,
            None => {
                self.counts.insert(name.clone(), 1);
                self.order.push(name);
            }
        }
    }

    /// True when `name` is defined.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.counts.contains_key(name)
    }

    /// How many times `name` was defined.
    pub(crate) fn count(&self, name: &str) -> usize {
        self.counts.get(name).copied().unwrap_or(0)
    }

    /// The names, in the order first defined (for "did you mean").
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str)
    }
}

impl<S: Into<String>> FromIterator<S> for Known {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut known = Self::default();
        for name in iter {
            known.push(name);
        }
        known
    }
}

#[cfg(test)]
mod tests {
    use super::Known;

    #[test]
    fn names_count_their_definitions_and_keep_their_first_order() {
        let mut k: Known = ["b", "a"].into_iter().collect();
        k.push("b");
        assert!(k.contains("a") && !k.contains("c"));
        assert_eq!((k.count("b"), k.count("a"), k.count("c")), (2, 1, 0));
        assert_eq!(k.names().collect::<Vec<_>>(), ["b", "a"]);
    }
}
