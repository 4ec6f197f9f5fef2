//! A user's own algorithm in a configuration: a shared factory that builds
//! one instance per connection.

use std::sync::Arc;

/// A factory shared by the configurations that name it (`Plugin<dyn
/// SchedulerFactory>`, `Plugin<dyn CongestionControlFactory>`). Two plugins
/// are equal when they are the same factory.
pub struct Plugin<F: ?Sized>(pub Arc<F>);

impl<F: ?Sized> Plugin<F> {
    /// Wraps a factory.
    pub fn new(factory: Arc<F>) -> Self {
        Plugin(factory)
    }
}

impl<F: ?Sized> Clone for Plugin<F> {
    fn clone(&self) -> Self {
        Plugin(self.0.clone())
    }
}

impl<F: ?Sized> PartialEq for Plugin<F> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<F: ?Sized> Eq for Plugin<F> {}

impl<F: ?Sized + core::fmt::Debug> core::fmt::Debug for Plugin<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl<F: ?Sized> core::ops::Deref for Plugin<F> {
    type Target = F;
    fn deref(&self) -> &F {
        &self.0
    }
}
