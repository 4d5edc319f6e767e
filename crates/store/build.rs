//! Embeds the schema folders: sqlx's `migrate!` reads `migrations/`, and this script lists
//! `clickhouse-ddl/*.sql` (in name order) so a new DDL file is picked up without code changes.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    println!("cargo:rerun-if-changed={}", root.join("migrations").display());
    let ddl_dir = root.join("clickhouse-ddl");
    println!("cargo:rerun-if-changed={}", ddl_dir.display());

    let mut files: Vec<PathBuf> = std::fs::read_dir(&ddl_dir)
        .expect("clickhouse-ddl/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut out = String::from("/// `(file name, contents)` of every `clickhouse-ddl/*.sql`, in apply order.\npub static CLICKHOUSE_DDL: &[(&str, &str)] = &[\n");
    for f in files {
        let canonical = f.canonicalize().unwrap();
        let name = f.file_name().unwrap().to_str().unwrap();
        writeln!(out, "    ({name:?}, include_str!({:?})),", canonical.display().to_string()).unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("clickhouse_ddl.rs");
    std::fs::write(dest, out).unwrap();
}
