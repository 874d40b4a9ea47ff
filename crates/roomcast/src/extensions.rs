//! What a server provides to every namespace and handler, by type: the shared state handlers
//! take with [`State`](crate::State), and the server itself for sockets that ask for it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

/// Values by type.
#[derive(Default)]
pub(crate) struct Extensions {
    values: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Extensions {
    /// Provides `value` (replacing any value of the same type).
    pub(crate) fn insert<T: Send + Sync + 'static>(&self, value: T) {
        self.values
            .write()
            .insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`, if one was provided.
    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let value = self.values.read().get(&TypeId::of::<T>())?.clone();
        value.downcast().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_by_type() {
        let extensions = Extensions::default();
        assert!(extensions.get::<u32>().is_none());
        extensions.insert(7u32);
        extensions.insert(String::from("s"));
        assert_eq!(extensions.get::<u32>().as_deref(), Some(&7));
        extensions.insert(8u32);
        assert_eq!(extensions.get::<u32>().as_deref(), Some(&8));
        assert_eq!(
            extensions.get::<String>().as_deref().map(String::as_str),
            Some("s")
        );
    }
}
