//! Generates the Rust guest glue and host caller of the shared test contract
//! (`tests/fixtures/wit/geometry.wit`) and of `wit/kinds.wit` (every kind, awkward names) into
//! `OUT_DIR/polyplug`.

fn main() {
    polyplugc::build::rust("../fixtures/wit/geometry.wit");
    polyplugc::build::rust("wit/kinds.wit");
}
