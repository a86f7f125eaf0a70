//! With the `split` feature, links the WASM with its relocations kept, which `wasm-split-cli` needs to cut the parts loaded on demand out of it.
fn main() {
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_SPLIT");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32");
    if wasm && std::env::var_os("CARGO_FEATURE_SPLIT").is_some() {
        println!("cargo:rustc-link-arg-cdylib=--emit-relocs");
    }
}
