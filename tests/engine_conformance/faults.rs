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

// 8. **Dropped connections.** The server ending sqlvault's sessions
//    (`pg_terminate_backend`, `KILL CONNECTION`) at random moments of a
//    backup and at the engine's milestones of a restore: the run ends by
//    itself, never by a signal, with one error line and its report (or
//    succeeds, when the work was done); a failed backup adds no point and
//    leaves a repository that verifies; a failed restore leaves no target
//    and no temporaries.

use crate::common::{Out, objects};
use crate::support::{delay_rng, spawn, within};
use crate::{Moment, assert_verify_ok, point_ids, restore};
use std::time::{Duration, Instant};

/// Run `cmd`; when `moment` comes while it runs, end the server sessions
/// of sqlvault. Its output, and how many sessions were ended.
fn drop_connections_when<H: Harness>(
    h: &H,
    cmd: std::process::Command,
    mut moment: Moment,
) -> (Out, usize) {
    let mut child = spawn(cmd);
    let t0 = Instant::now();
    let mut ended = 0;
    while child.try_wait().unwrap().is_none() {
        let due = match &mut moment {
            Moment::After(d) => t0.elapsed() >= *d,
            Moment::When(probe) => probe(),
        };
        if due {
            ended = h.end_sessions();
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "the run hangs");
        std::thread::sleep(Duration::from_millis(1));
    }
    let o = child.wait_with_output().unwrap();
    let out = Out::from_output(o);
    assert_ne!(out.code, -1, "died of a signal:\n{}", out.stderr);
    (out, ended)
}

pub fn dropped_connections_fail_cleanly<H: Harness>() {
    let h = H::new("dropped");
    let s = h.scratch();
    let v = Vault::init_unencrypted(s, s.join("repo"));
    h.create_big("big");
    let t0 = Instant::now();
    let point = backup_ok(&h, &v, "big");
    let full_backup = t0.elapsed();
    let mut rng = delay_rng("dropped connections");
    let mut failed = 0;
    for round in 0..3u64 {
        h.change_big("big", round);
        let before = point_ids(&h, &v);
        let packs = objects(&v.repo, "packs").len();
        let moment = if round == 0 {
            let repo = v.repo.clone();
            Moment::When(Box::new(move || objects(&repo, "packs").len() > packs))
        } else {
            Moment::After(within(&mut rng, full_backup))
        };
        let mut c = cmd(&h, &v);
        c.args(["--json", "backup"]).arg(h.source("big"));
        let (out, ended) = drop_connections_when(&h, c, moment);
        let after = point_ids(&h, &v);
        eprintln!(
            "backup round {round}: {ended} session(s) ended, exit {}",
            out.code
        );
        if out.code == 0 {
            assert_eq!(after.len(), before.len() + 1);
        } else {
            failed += 1;
            out.expect_code(1);
            single_error(&out);
            assert_eq!(out.json()["status"], "failed", "{}", out.stdout);
            assert_eq!(after, before, "a failed backup added a point");
        }
        assert_verify_ok(
            &h,
            &v,
            &format!("dropped connections, backup round {round}"),
        );
    }

    let t0 = Instant::now();
    restore_ok(&h, &v, &point, "target", &[]);
    let full_restore = t0.elapsed();
    h.remove("target");
    // Milestones are made afresh each round: ending sessions ends their
    // probes' connections too.
    let milestones = h.restore_milestones("target").len();
    for round in 0..=milestones {
        let (what, moment) = match round {
            0 => (
                "at random".to_string(),
                Moment::After(within(&mut rng, full_restore)),
            ),
            k => {
                let (what, probe) = h.restore_milestones("target").swap_remove(k - 1);
                (what.to_string(), Moment::When(probe))
            }
        };
        let t0 = Instant::now();
        let mut c = cmd(&h, &v);
        c.args(["--json", "restore", &point, "--to"])
            .arg(h.target("target"));
        let (out, ended) = drop_connections_when(&h, c, moment);
        eprintln!(
            "restore {what}: {ended} session(s) ended, exit {} after {:?}: {}",
            out.code,
            t0.elapsed(),
            out.error_lines().join(" ")
        );
        if out.code == 0 {
            h.remove("target");
        } else {
            failed += 1;
            single_error(&out);
            assert_eq!(out.json()["status"], "failed", "{}", out.stdout);
            assert!(
                !h.exists("target"),
                "{what}: a failed restore left its target"
            );
            assert_no_leftovers(&h, &format!("a restore whose connections dropped {what}"));
        }
    }
    assert!(
        failed >= 3,
        "only {failed} runs lost their connections mid-run"
    );
    // Nothing was harmed: the point still restores.
    let _ = restore(&h, &v, &point, "again", &[]).expect_code(0);
}
