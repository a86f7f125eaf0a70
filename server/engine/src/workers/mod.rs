//! Background work done once per cluster, off the request path: webhook deliveries.

pub mod webhooks;
