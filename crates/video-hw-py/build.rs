//! Link flags of the extension module.
//!
//! A shared object exports every `#[no_mangle]` item of the crates it links, rav1d's
//! tables included, and exported symbols may be replaced at load time; dav1d's assembly
//! addresses those tables PC-relative, which the linker then refuses ("relocation
//! R_X86_64_PC32 cannot be used against symbol 'dav1d_mc_subpel_filters'").
//! `-Bsymbolic` binds the module's references to its own definitions, which is what the
//! assembly assumes (a static library or an executable gets it by construction).

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" || os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-Bsymbolic");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
