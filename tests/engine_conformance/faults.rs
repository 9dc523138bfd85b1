//! 7. **Replacing never loses.** A replacing restore (`--clean`,
//!    `--force`) that fails leaves the target as it was; one that succeeds
//!    while another client holds a session on sqlvault's own temporary
//!    database (a monitoring agent that visits every database) still puts
//!    the restored database in place.

use crate::common::Vault;
use crate::support::single_error;
use crate::{Harness, assert_no_leftovers, backup_ok, cmd, restore_ok, run};
use std::sync::atomic::{AtomicBool, Ordering};

pub fn replacing_never_loses_the_target<H: Harness>() {
    let h = H::new("replacing");
    let s = h.scratch();
    let v = Vault::init(s, s.join("repo"));
    h.create_small("src");
    let expected = h.snapshot("src");
    let point = backup_ok(&h, &v, "src");
    h.create_occupied("dst");

    // A restore whose check fails: the old target stays, and says so.
    let mut c = cmd(&h, &v);
    // One restore altered: the one that would replace the target (an
    // engine that must put the old database back restores it unaltered).
    c.env("SQLVAULT_TEST_FAULT", "alter-row-once")
        .args(["restore", &point, H::REPLACE_FLAG, "--to"])
        .arg(h.target("dst"));
    let out = run(&h, &mut c);
    out.expect_code(1);
    let line = single_error(&out);
    assert!(line.contains("differs from what was backed up"), "{line}");
    assert!(
        line.contains("unchanged"),
        "says nothing of the target: {line}"
    );
    assert!(
        h.occupied_unchanged("dst"),
        "a failed restore lost the target"
    );
    assert_no_leftovers(&h, "a failed replacing restore");

    // A session held on the restore's temporary database does not stop it.
    let stop = AtomicBool::new(false);
    let (check, held) = std::thread::scope(|scope| {
        let holder = scope.spawn(|| h.hold_temporaries(&stop));
        let check = restore_ok(&h, &v, &point, "dst", &[H::REPLACE_FLAG]);
        stop.store(true, Ordering::Relaxed);
        (check, holder.join().unwrap())
    });
    assert!(check.starts_with("full: "), "{check}");
    h.assert_same(&expected, "dst");
    assert!(
        held > 0 || !H::TEMPORARY_DATABASE,
        "no session was held on a temporary database: the test proves nothing"
    );
    assert_no_leftovers(&h, "a replacing restore");
}
