//! What goes out live: the hub that hands folded events to each channel's sockets, presence, and the relays that carry typing and presence between nodes.

pub mod hub;
pub mod presence;
pub mod relay;
