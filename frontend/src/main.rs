//! The binary Trunk builds for the client-only (CSR) bundle.

fn main() {
    parley_frontend::mount();
}
