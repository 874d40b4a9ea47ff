//! The sharded adapter's subscription mode.

/// Which rooms get a channel of their own (Node's `subscriptionMode`); every server of a
/// cluster must use the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubscriptionMode {
    /// Every message on the namespace's channel.
    Static,
    /// A channel for each room that is not a socket id (the default).
    #[default]
    Dynamic,
    /// A channel for every room, socket-id rooms included.
    DynamicPrivate,
}
