//! Embeds the schema folders: sqlx's `migrate!` reads `migrations/`, and this script lists
//! `clickhouse-ddl/*.sql` and `clickhouse-ddl/sharded/*.sql` (in name order) so a new DDL file is
//! picked up without code changes.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    println!("cargo:rerun-if-changed={}", root.join("migrations").display());
    let ddl_dir = root.join("clickhouse-ddl");
    println!("cargo:rerun-if-changed={}", ddl_dir.display());

    let mut out = String::new();
    embed(&mut out, &ddl_dir, "CLICKHOUSE_DDL", "clickhouse-ddl/*.sql");
    let sharded = ddl_dir.join("sharded");
    println!("cargo:rerun-if-changed={}", sharded.display());
    embed(&mut out, &sharded, "CLICKHOUSE_DDL_SHARDED", "clickhouse-ddl/sharded/*.sql");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("clickhouse_ddl.rs");
    std::fs::write(dest, out).unwrap();
}

/// Appends `pub static NAME: &[(file name, contents)]` for the `.sql` files of `dir`, in name order.
fn embed(out: &mut String, dir: &std::path::Path, name: &str, what: &str) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    writeln!(
        out,
        "/// `(file name, contents)` of every `{what}`, in apply order.\npub static {name}: &[(&str, &str)] = &["
    )
    .unwrap();
    for f in files {
        let canonical = f.canonicalize().unwrap();
        let file = f.file_name().unwrap().to_str().unwrap();
        writeln!(out, "    ({file:?}, include_str!({:?})),", canonical.display().to_string()).unwrap();
    }
    out.push_str("];\n");
}
