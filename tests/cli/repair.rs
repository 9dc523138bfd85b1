//! Damage stays local: every object kind flipped, truncated and deleted.
//! For each, `verify` must name exactly the restore points that cannot be
//! restored (a restore of each point agrees with its verdict), and after
//! `repair` the repository verifies clean and every point that could be
//! saved still restores with its fingerprints checked. Plus the findings
//! that started this: one damaged index object used to stop every
//! restore, backup and prune.

use crate::common;

use common::{Scratch, Vault, add_fixture_rows, make_fixture, open, run};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A repository with three points: a1 (full), a2 (after a change: deltas
/// and shared chunks), b1 (another database), and the objects each backup
/// wrote.
struct Template {
    s: Scratch,
    encrypted: bool,
    a: PathBuf,
    b: PathBuf,
    points: Vec<(String, String, Vec<PathBuf>)>,
}

fn all_files(repo: &Path) -> BTreeSet<PathBuf> {
    common::files_under(repo)
        .into_iter()
        .map(|p| p.strip_prefix(repo).unwrap().to_path_buf())
        .collect()
}

impl Template {
    fn build(encrypted: bool) -> Template {
        let s = Scratch::new();
        let repo = s.join("repo");
        let v = if encrypted {
            Vault::init(&s, repo.clone())
        } else {
            Vault::init_unencrypted(&s, repo.clone())
        };
        let (a, b) = (s.join("a.db"), s.join("b.db"));
        make_fixture(&a, "wal", 1);
        make_fixture(&b, "delete", 2);
        let mut points = Vec::new();
        for (label, db) in [("a1", &a), ("a2", &a), ("b1", &b)] {
            if label == "a2" {
                add_fixture_rows(&mut open(&a), 3, 300, 340);
                open(&a)
                    .execute_batch("UPDATE customers SET name = name || '!' WHERE id % 7 = 0")
                    .unwrap();
            }
            let before = all_files(&repo);
            let id = v.backup_one(db);
            let new: Vec<PathBuf> = all_files(&repo).difference(&before).cloned().collect();
            points.push((label.to_string(), id, new));
        }
        Template {
            s,
            encrypted,
            a,
            b,
            points,
        }
    }

    /// A fresh copy of the repository to damage.
    fn copy(&self, name: &str) -> Vault {
        let to = self.s.join(name);
        let st = Command::new("cp")
            .arg("-a")
            .arg(self.s.join("repo"))
            .arg(&to)
            .status()
            .unwrap();
        assert!(st.success());
        Vault {
            repo: to,
            home: self.s.home(),
            password: self.encrypted.then(|| common::PASSWORD.to_string()),
        }
    }

    /// The one object of `kind` (`packs`, `index`, `points`, `sessions`)
    /// the backup of `label` wrote.
    fn object(&self, label: &str, kind: &str) -> PathBuf {
        let p = self.points.iter().find(|p| p.0 == label).unwrap();
        let mine: Vec<&PathBuf> = p.2.iter().filter(|f| f.starts_with(kind)).collect();
        assert_eq!(mine.len(), 1, "{label} wrote {mine:?} under {kind}");
        mine[0].clone()
    }
}

#[derive(Clone, Copy, Debug)]
enum Damage {
    /// Flip one byte at this offset (negative: from the end).
    Flip(i64),
    /// Flip a byte in the middle.
    FlipMiddle,
    /// Cut this many bytes off the end.
    Truncate(u64),
    Delete,
}

fn damage(file: &Path, how: Damage) {
    let mut data = std::fs::read(file).unwrap();
    let len = data.len() as i64;
    let flip = |data: &mut Vec<u8>, at: i64| {
        let at = if at < 0 { len + at } else { at } as usize;
        data[at] ^= 0x5a;
    };
    match how {
        Damage::Flip(at) => flip(&mut data, at),
        Damage::FlipMiddle => flip(&mut data, len / 2),
        Damage::Truncate(n) => data.truncate(data.len() - n as usize),
        Damage::Delete => {
            std::fs::remove_file(file).unwrap();
            return;
        }
    }
    std::fs::write(file, data).unwrap();
}

/// The points `verify --json` names as failed, and the whole report.
fn verify(v: &Vault) -> (i32, BTreeSet<String>, Value) {
    let out = v.run(&["--json", "verify"]);
    let r = out.json();
    let failed = r["databases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] != "ok")
        .map(|d| d["restore_point"].as_str().unwrap().to_string())
        .collect();
    (out.code, failed, r)
}

/// Restore a point with the full check; whether it succeeded.
fn restores(v: &Vault, id: &str, scratch: &Scratch, tag: &str) -> bool {
    let to = scratch.join(&format!("restored-{tag}-{}.db", &id[..8]));
    let out = v.restore_with(id, &to, &[]);
    let ok = out.code == 0;
    if ok {
        let check = out.json()["databases"][0]["check"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            check.starts_with("full:") && check.contains("match"),
            "{check}"
        );
        std::fs::remove_file(&to).unwrap();
    } else {
        assert!(!to.exists(), "a failed restore left {to:?}");
    }
    ok
}

/// verify's verdict on each point agrees with what a restore does.
#[track_caller]
fn assert_verdicts_match_restores(t: &Template, v: &Vault, failed: &BTreeSet<String>, tag: &str) {
    for (label, id, _) in &t.points {
        let ok = restores(v, id, &t.s, tag);
        assert_eq!(
            ok,
            !failed.contains(id),
            "{tag}: verify says {label} is {}, but its restore {}",
            if failed.contains(id) {
                "damaged"
            } else {
                "fine"
            },
            if ok { "succeeds" } else { "fails" }
        );
    }
}

fn labels(t: &Template, ids: &BTreeSet<String>) -> BTreeSet<String> {
    ids.iter()
        .map(|id| {
            t.points
                .iter()
                .find(|p| &p.1 == id)
                .map(|p| p.0.clone())
                .unwrap_or_else(|| id.clone())
        })
        .collect()
}

#[test]
fn every_object_kind_damaged_costs_only_what_it_holds_and_repair_saves_the_rest() {
    let t = Template::build(false);
    // (which object, damage, verify's exit code, the points it must name)
    let cases: Vec<(&str, &str, Damage, i32, &[&str])> = vec![
        ("a2", "index", Damage::FlipMiddle, 1, &[]),
        ("a2", "index", Damage::Truncate(10), 1, &[]),
        ("a2", "index", Damage::Delete, 0, &[]),
        ("b1", "packs", Damage::Flip(5), 1, &[]),
        ("b1", "packs", Damage::Flip(-40), 1, &[]),
        ("b1", "packs", Damage::Flip(-3), 1, &[]),
        ("b1", "packs", Damage::Truncate(100), 1, &[]),
        ("b1", "packs", Damage::FlipMiddle, 1, &["b1"]),
        ("b1", "packs", Damage::Delete, 1, &["b1"]),
        ("a2", "points", Damage::FlipMiddle, 1, &["a2"]),
        ("a2", "points", Damage::Truncate(5), 1, &["a2"]),
        ("a2", "points", Damage::Delete, 1, &["a2"]),
        ("b1", "sessions", Damage::FlipMiddle, 0, &[]),
        ("b1", "sessions", Damage::Truncate(7), 0, &[]),
        ("b1", "sessions", Damage::Delete, 0, &[]),
    ];
    for (n, (label, kind, how, code, named)) in cases.into_iter().enumerate() {
        let tag = format!("{label}-{kind}-{how:?}");
        let v = t.copy(&format!("case{n}"));
        damage(&v.repo.join(t.object(label, kind)), how);
        let (got_code, failed, report) = verify(&v);
        let want: BTreeSet<String> = named.iter().map(|s| s.to_string()).collect();
        assert_eq!(labels(&t, &failed), want, "{tag}: {report:#}");
        assert_eq!(got_code, code, "{tag}: {report:#}");
        assert_verdicts_match_restores(&t, &v, &failed, &tag);

        let mut args = vec!["--json", "repair", "--read-data"];
        if !named.is_empty() {
            args.push("--forget-damaged");
        }
        let out = v.run(&args);
        let r = out.json();
        assert_eq!(
            out.code,
            if named.is_empty() { 0 } else { 1 },
            "{tag}: {r:#}"
        );
        let (code, failed, after) = verify(&v);
        assert_eq!(code, 0, "{tag}: after repair: {after:#}");
        assert!(failed.is_empty(), "{tag}: {after:#}");
        assert!(after.get("errors").is_none(), "{tag}: {after:#}");
        assert!(after.get("warnings").is_none(), "{tag}: {after:#}");
        // The points that could be saved were, and still prove identical.
        for (l, id, _) in &t.points {
            if !named.contains(&l.as_str()) {
                assert!(restores(&v, id, &t.s, &tag), "{tag}: {l} lost by repair");
            }
        }
        std::fs::remove_dir_all(&v.repo).unwrap();
    }
}

#[test]
fn a_damaged_base_is_charged_to_its_own_pack() {
    let t = Template::build(false);
    let v = t.copy("base");
    let a1_pack = t.object("a1", "packs");
    damage(&v.repo.join(&a1_pack), Damage::FlipMiddle);
    let (code, failed, r) = verify(&v);
    assert_eq!(code, 1);
    assert!(labels(&t, &failed).contains("a1"), "{r:#}");
    let a1_name = a1_pack.to_string_lossy().replace('\\', "/");
    for e in r["errors"].as_array().unwrap() {
        let e = e.as_str().unwrap();
        if e.starts_with("pack ") {
            assert!(
                e.contains(&a1_name),
                "damage charged to the wrong pack: {e}"
            );
        }
    }
    assert_verdicts_match_restores(&t, &v, &failed, "base");
}

#[test]
fn a_damaged_index_stops_no_restore_backup_or_prune_and_repair_rebuilds_it() {
    let t = Template::build(true);
    let v = t.copy("idx");
    damage(&v.repo.join(t.object("a1", "index")), Damage::FlipMiddle);
    // Every point restores, reading the packs' footers, and says so.
    for (_, id, _) in &t.points {
        let to = t.s.join(&format!("idx-{}.db", &id[..8]));
        let out = v.restore_with(id, &to, &[]);
        out.expect_code(0);
        let r = out.json();
        assert!(
            r["warnings"].to_string().contains("sqlvault repair"),
            "{r:#}"
        );
    }
    // A backup still works (it deduplicates against what it can read).
    open(&t.a)
        .execute_batch("DELETE FROM orders WHERE id % 5 = 0")
        .unwrap();
    v.backup_one(&t.a);
    // And so does a prune.
    let policy = t.s.join("idx.toml");
    std::fs::write(
        &policy,
        format!(
            "[repository]\npath = \"{}\"\npassword-env = \"SQLVAULT_PASSWORD\"\n\n\
             [[source]]\nname = \"local\"\nengine = \"sqlite\"\ndatabases = [\"{}\", \"{}\"]\n\n\
             [schedule]\ntime-zone = \"UTC\"\nfull = {{ frequency = \"daily\", at = \"00:00\" }}\n\n\
             [retention]\ndaily = 1\n",
            v.repo.display(),
            t.a.display(),
            t.b.display()
        ),
    )
    .unwrap();
    let out = run(v.cmd().args(["--json", "prune", "--policy"]).arg(&policy));
    out.expect_code(0);
    let (code, failed, r) = verify(&v);
    assert!(failed.is_empty(), "{r:#}");
    assert_eq!(code, 0, "{r:#}");
    for (_, id, _) in v
        .points()
        .iter()
        .map(|p| ((), p["id"].as_str().unwrap().to_string(), ()))
    {
        assert!(restores(&v, &id, &t.s, "after-prune"));
    }
}

#[test]
fn repair_dry_run_explains_and_changes_nothing() {
    let t = Template::build(false);
    let v = t.copy("dry");
    damage(&v.repo.join(t.object("a2", "index")), Damage::FlipMiddle);
    damage(&v.repo.join(t.object("b1", "packs")), Damage::Flip(5));
    let before = all_files(&v.repo);
    let out = v.run(&["--json", "repair", "--dry-run", "--read-data"]);
    out.expect_code(0);
    let notes = out.json()["notes"].to_string();
    for want in [
        "would remove damaged index object",
        "would rewrite damaged pack",
        "would rewrite the index",
    ] {
        assert!(notes.contains(want), "{want}: {notes}");
    }
    assert_eq!(
        all_files(&v.repo),
        before,
        "a dry run changed the repository"
    );
}

#[test]
fn config_and_key_damage_say_what_to_do() {
    let t = Template::build(true);
    for (kind, how, code, words) in [
        ("config", Damage::FlipMiddle, 4, "copy it back"),
        ("config", Damage::Truncate(3), 4, "copy it back"),
        ("config", Damage::Delete, 2, "is not a sqlvault repository"),
        ("keys", Damage::FlipMiddle, 4, "copy `keys/` back"),
        ("keys", Damage::Delete, 4, "restore `keys/` from a copy"),
    ] {
        let v = t.copy(&format!("{kind}-{how:?}"));
        let file = if kind == "config" {
            v.repo.join("config")
        } else {
            common::objects(&v.repo, "keys").pop().unwrap()
        };
        damage(&file, how);
        let out = v.run(&["verify"]);
        out.expect_code(code);
        assert!(out.stderr.contains(words), "{kind} {how:?}: {}", out.stderr);
        assert!(
            !out.stderr.contains("run `sqlvault verify`"),
            "{}",
            out.stderr
        );
        std::fs::remove_dir_all(&v.repo).unwrap();
    }
}

#[test]
fn kill_9_during_repair_leaves_a_valid_repository() {
    let t = Template::build(false);
    let v = t.copy("kill");
    damage(&v.repo.join(t.object("a2", "index")), Damage::FlipMiddle);
    damage(&v.repo.join(t.object("b1", "packs")), Damage::Flip(5));
    for delay_ms in [5u64, 20, 40, 80, 150, 300] {
        let mut child = v
            .cmd()
            .args(["repair", "--read-data"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever step it died at, no point was lost.
        let (_, failed, r) = verify(&v);
        assert!(failed.is_empty(), "killed after {delay_ms} ms: {r:#}");
    }
    v.run(&["repair", "--read-data"]).expect_code(0);
    let (code, failed, r) = verify(&v);
    assert_eq!((code, failed.len()), (0, 0), "{r:#}");
    assert!(r.get("warnings").is_none(), "{r:#}");
    for (_, id, _) in &t.points {
        assert!(restores(&v, id, &t.s, "killed"));
    }
}
