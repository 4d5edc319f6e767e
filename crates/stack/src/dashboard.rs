//! The partner dashboard (`dashboard/`, TypeScript built by Vite): its npm packages installed
//! from the committed lockfile, the production build the gateway serves, and its unit tests.
//! The dev and test commands call these, so nobody builds the app by hand.

use std::path::PathBuf;
use std::process::Command;

use crate::profile::repo_root;

pub fn app_dir() -> PathBuf {
    repo_root().join("dashboard")
}

/// The built app, what `DASHBOARD_DIR` points the gateway at.
pub fn dist_dir() -> PathBuf {
    app_dir().join("dist")
}

fn npm(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("npm").args(args).current_dir(app_dir()).status()?;
    anyhow::ensure!(status.success(), "`npm {}` in {} failed", args.join(" "), app_dir().display());
    Ok(())
}

/// Installs the packages (when the lockfile changed since the last install) and builds.
pub fn build() -> anyhow::Result<PathBuf> {
    crate::install::ensure_node()?;
    let lock = app_dir().join("package-lock.json");
    let installed = app_dir().join("node_modules/.package-lock.json");
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&installed).is_none() || modified(&installed) < modified(&lock) {
        npm(&["ci", "--no-audit", "--no-fund"])?;
    }
    npm(&["run", "--silent", "build"])?;
    Ok(dist_dir())
}

/// The app's unit tests (vitest).
pub fn unit_tests() -> anyhow::Result<bool> {
    Ok(Command::new("npm").args(["test", "--silent"]).current_dir(app_dir()).status()?.success())
}
