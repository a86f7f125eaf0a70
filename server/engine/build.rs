//! Embeds each backend's SQL migrations (`migrations/sqlite`, `migrations/postgres`) in the engine, as sqlx's `migrate!` would, without its macros.
//!
//! Writes `$OUT_DIR/migrations.rs`: for each backend, a list of (version, description, SQL)
//! taken from the file names `<version>_<description>.sql`, in version order. `db::migrator`
//! turns it into sqlx's `Migrator`, with the checksums sqlx computes from the same text.
//! sqlx's `macros` feature would compile a second copy of sqlx and of SQLite's C for the
//! build machine, only for this.

use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut out = String::new();
    for (name, dir) in [("SQLITE", "sqlite"), ("POSTGRES", "postgres")] {
        let dir = root.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        out += &format!("pub const {name}: &[(i64, &str, &str)] = &[\n");
        for (version, description, path) in migrations(&dir) {
            out += &format!(
                "    ({version}, {description:?}, include_str!({:?})),\n",
                path.display().to_string()
            );
        }
        out += "];\n";
    }
    let dest = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("migrations.rs");
    fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}

/// A folder's migrations in version order, named as sqlx reads them: the description is
/// the name after the first `_`, without `.sql`, its `_` turned into spaces.
fn migrations(dir: &Path) -> Vec<(i64, String, PathBuf)> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut found = Vec::new();
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .path();
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_owned();
        let Some((version, rest)) = file.split_once('_') else {
            panic!("{}: a migration is named <version>_<description>.sql", path.display())
        };
        let Some(description) = rest.strip_suffix(".sql") else {
            panic!("{}: a migration is named <version>_<description>.sql", path.display())
        };
        assert!(
            !description.ends_with(".up") && !description.ends_with(".down"),
            "{}: reversible migrations are not embedded",
            path.display()
        );
        let version: i64 = version
            .parse()
            .unwrap_or_else(|_| panic!("{}: the version before `_` is not a number", path.display()));
        let path = path
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        found.push((version, description.replace('_', " "), path));
    }
    found.sort();
    for pair in found.windows(2) {
        assert!(
            pair[0].0 != pair[1].0,
            "two migrations have version {} in {}",
            pair[0].0,
            dir.display()
        );
    }
    found
}
