//! Runs schemathesis (the HTTP contract tester; `cargo stack test` installs a pinned release
//! and sets `SCHEMATHESIS`) against a service a test started, with a fixed seed so a failure
//! reproduces. Reports go to `target/contract/`.

use std::process::Stdio;

/// One schemathesis run: `doc` is the OpenAPI document's URL, `base` the service's; `args` adds
/// headers, checks and operation filters. Returns whether it passed, and its report.
pub async fn schemathesis(doc: &str, base: &str, args: &[&str]) -> (bool, String) {
    let root = stack::profile::repo_root();
    let st = std::env::var("SCHEMATHESIS")
        .unwrap_or_else(|_| root.join(".stack/tools/schemathesis/bin/st").display().to_string());
    // its working folder holds the example cache it keeps between runs: under target/, not in
    // the repository
    let work = root.join("target/contract");
    std::fs::create_dir_all(&work).expect("target/contract");
    let out = tokio::process::Command::new(&st)
        .current_dir(&work)
        .args(["--no-color", "run", doc, "--url", base])
        // not the coverage phase: in schemathesis 4.32 it stops, now and then, with an internal
        // error of its own (hypothesis's "AST constructor recursion depth mismatch"), which
        // would make these tests flaky without saying anything about the service
        .args(["--max-examples", "40", "--workers", "2", "--phases", "examples,fuzzing"])
        .args(["--generation-deterministic", "--seed", "20261125"])
        .arg("--report-dir")
        .arg(&work)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run schemathesis at {st} ({e}): run `cargo stack test`, which installs it"));
    let report = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success() && report.contains("API Operations"), report)
}
