//! The network: links, their queues, and routing.

pub mod codel;
pub mod link;
pub mod routing;
