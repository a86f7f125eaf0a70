//! The binary Trunk builds for the client-only (CSR) bundle.
// The page's view is one deeply nested type in builds without `erase_components`.
#![recursion_limit = "512"]

fn main() {
    parley_frontend::mount();
}
