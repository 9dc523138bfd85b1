//! Property tests: any set of streams written through the chunk → pack →
//! index → manifest pipeline reads back byte for byte, and known content is
//! never stored twice; and `latest` is the newest backup of a database or
//! a refusal, whatever happened to the manifests.

use proptest::prelude::*;
use sqlvault::progress::NoProgress;
use sqlvault::repo::point::RestorePoint;
use sqlvault::repo::writer::BackupWriter;
use sqlvault::repo::{InitOptions, Repository, Secret};
use sqlvault::storage::{MemoryStorage, Storage};
use std::io::Write;
use std::sync::Arc;

fn repo(encrypted: bool) -> Arc<Repository> {
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let opts = InitOptions {
        encrypted,
        compression_level: 1,
    };
    let pw = Secret::new(b"pw".to_vec());
    Arc::new(Repository::init(storage, &opts, encrypted.then_some(&pw)).unwrap())
}

fn point() -> RestorePoint {
    RestorePoint {
        created_at: "2026-01-01T00:00:00Z".into(),
        hostname: "h".into(),
        engine: "test".into(),
        database: "db".into(),
        source: "src".into(),
        meta: serde_json::Value::Null,
        streams: vec![],
        stats: Default::default(),
        kind: sqlvault::policy::BackupKind::Full,
        depends_on: None,
        fingerprints: None,
        written_by: None,
        job: None,
    }
}

/// Data with repeats and incompressible runs, in writes of odd sizes.
fn stream_data() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    (
        prop::collection::vec((any::<u8>(), 1usize..200_000, any::<bool>()), 0..8),
        prop::collection::vec(1usize..300_000, 1..6),
    )
        .prop_map(|(parts, writes)| {
            let mut data = Vec::new();
            let mut x: u64 = 0x9E3779B97F4A7C15;
            for (b, n, random) in parts {
                for _ in 0..n {
                    if random {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        data.push(x as u8);
                    } else {
                        data.push(b);
                    }
                }
            }
            (data, writes)
        })
}

fn backup(
    repo: &Arc<Repository>,
    streams: &[(String, Vec<u8>, Vec<usize>)],
) -> (sqlvault::repo::ids::PointId, u64) {
    let w = BackupWriter::new(repo.clone(), 1, None).unwrap();
    for (name, data, writes) in streams {
        let mut s = w.stream(name).unwrap();
        let mut pos = 0;
        let mut i = 0;
        while pos < data.len() {
            let n = writes[i % writes.len()].min(data.len() - pos);
            s.write_all(&data[pos..pos + n]).unwrap();
            pos += n;
            i += 1;
        }
        s.finish().unwrap();
    }
    let (id, stats, _) = w.commit(point()).unwrap();
    (id, stats.bytes_new)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn streams_round_trip(a in stream_data(), b in stream_data(), encrypted in any::<bool>()) {
        let repo = repo(encrypted);
        let streams = vec![("a".to_string(), a.0, a.1), ("b".to_string(), b.0, b.1)];
        let (id, _) = backup(&repo, &streams);
        let p = repo.read_point(&id).unwrap();
        let index = repo.load_index().unwrap();
        for (name, data, _) in &streams {
            let entry = p.stream(name).unwrap();
            prop_assert_eq!(entry.size, data.len() as u64);
            let mut out = Vec::new();
            repo.restore_stream(&index, entry, &mut out, &NoProgress).unwrap();
            prop_assert_eq!(&out, data);
        }
        // The same content again stores no new chunk.
        let (_, new) = backup(&repo, &streams);
        prop_assert_eq!(new, 0);
        let check = repo.check(&NoProgress).unwrap();
        prop_assert!(check.errors.is_empty(), "{:?}", check.errors);
        prop_assert_eq!(check.points_ok.len(), 2);
    }
}

#[test]
fn changed_chunks_are_stored_as_small_deltas_and_read_back() {
    let repo = repo(true);
    let mut x: u64 = 7;
    let data: Vec<u8> = (0..4_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let w = BackupWriter::new(repo.clone(), 3, None).unwrap();
    let mut s = w.stream("db").unwrap();
    s.write_all(&data).unwrap();
    s.finish().unwrap();
    let (first, first_stats, _) = w.commit(point()).unwrap();
    // Change a few bytes every 64 KiB: every chunk changes a little.
    let mut changed = data.clone();
    for i in (0..changed.len()).step_by(65536) {
        changed[i] ^= 0x55;
    }
    let parent = repo.read_point(&first).unwrap();
    let w = BackupWriter::new(repo.clone(), 3, Some(&parent)).unwrap();
    let mut s = w.stream("db").unwrap();
    s.write_all(&changed).unwrap();
    s.finish().unwrap();
    let (second, stats, _) = w.commit(point()).unwrap();
    assert_eq!(stats.bytes_new, changed.len() as u64, "every chunk changed");
    // The chunker is keyed per repository, so now and then a changed byte
    // sits where it moves a cut point and a chunk or two are stored whole;
    // the rest must be deltas.
    assert!(
        stats.bytes_stored * 6 < first_stats.bytes_stored,
        "deltas should be tiny: {} vs {}",
        stats.bytes_stored,
        first_stats.bytes_stored
    );
    let index = repo.load_index().unwrap();
    for (id, want) in [(first, &data), (second, &changed)] {
        let p = repo.read_point(&id).unwrap();
        let mut out = Vec::new();
        repo.restore_stream(&index, p.stream("db").unwrap(), &mut out, &NoProgress)
            .unwrap();
        assert_eq!(&out, want);
    }
    let check = repo.check(&NoProgress).unwrap();
    assert!(check.errors.is_empty(), "{:?}", check.errors);
    assert_eq!(check.points_ok.len(), 2);
}

// ---------------------------------------------------------------------------
// `latest` never falls back silently: after any sequence of backups,
// restores, lost or damaged manifests and `repair --forget-damaged`,
// `latest` of a database is its newest backup or a refusal.

/// What happened to one backup in the model.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Intact,
    Lost,
    Forgotten,
}

#[derive(Debug, Clone)]
enum Op {
    Backup(usize),
    Restore(usize),
    DeleteManifest(usize),
    DamageManifest(usize),
    Forget,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..2).prop_map(Op::Backup),
        1 => (0usize..2).prop_map(Op::Restore),
        1 => any::<usize>().prop_map(Op::DeleteManifest),
        1 => any::<usize>().prop_map(Op::DamageManifest),
        1 => Just(Op::Forget),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn latest_is_the_newest_backup_or_a_refusal(ops in prop::collection::vec(op(), 1..10)) {
        use sqlvault::pipeline;
        let dir = tempfile::tempdir().unwrap();
        let repo = repo(true);
        let names = ["alpha", "beta"];
        let files: Vec<_> = names.iter().map(|n| dir.path().join(format!("{n}.db"))).collect();
        for f in &files {
            rusqlite::Connection::open(f)
                .unwrap()
                .execute_batch("CREATE TABLE t (x INTEGER)")
                .unwrap();
        }
        // Every backup in order: (database index, id, fate).
        let mut made: Vec<(usize, String, Fate)> = Vec::new();
        for (step, op) in ops.iter().enumerate() {
            match op {
                Op::Backup(d) => {
                    rusqlite::Connection::open(&files[*d])
                        .unwrap()
                        .execute("INSERT INTO t VALUES (?1)", [step as i64])
                        .unwrap();
                    let engine: Box<dyn sqlvault::engine::Engine> =
                        Box::new(sqlvault::engine::sqlite::Sqlite::new(&files[*d]));
                    let r = pipeline::backup(&repo, &[(names[*d].into(), engine)], 1, &pipeline::Silent);
                    let id = r.databases[0].restore_point.clone().expect("a point");
                    made.push((*d, id, Fate::Intact));
                }
                Op::Restore(d) => {
                    let to = dir.path().join(format!("restored-{step}.db"));
                    let _ = pipeline::restore(
                        &repo,
                        "latest",
                        Some(names[*d]),
                        to.to_str().unwrap(),
                        &Default::default(),
                        &pipeline::Silent,
                    );
                }
                Op::DeleteManifest(k) | Op::DamageManifest(k) => {
                    let intact: Vec<usize> =
                        (0..made.len()).filter(|i| made[*i].2 == Fate::Intact).collect();
                    if intact.is_empty() {
                        continue;
                    }
                    let i = intact[k % intact.len()];
                    let name = format!("points/{}", made[i].1);
                    let mut bytes = repo.storage().get(&name).unwrap();
                    repo.storage().delete(&name).unwrap();
                    if matches!(op, Op::DamageManifest(_)) {
                        let mid = bytes.len() / 2;
                        bytes[mid] ^= 1;
                        repo.storage().put_if_absent(&name, &bytes).unwrap();
                    }
                    made[i].2 = Fate::Lost;
                }
                Op::Forget => {
                    let opts = pipeline::repair::RepairOptions {
                        dry_run: false,
                        forget_damaged: true,
                        read_data: false,
                    };
                    pipeline::repair::repair(&repo, &opts, &pipeline::Silent).unwrap();
                    for m in made.iter_mut().filter(|m| m.2 == Fate::Lost) {
                        m.2 = Fate::Forgotten;
                    }
                }
            }
            for (d, name) in names.iter().enumerate() {
                let newest = made.iter().rev().find(|m| m.0 == d && m.2 != Fate::Forgotten);
                let got = pipeline::latest::resolve(&repo, "latest", Some(name));
                match (newest, got) {
                    (Some((_, id, Fate::Intact)), Ok((p, _))) => {
                        prop_assert_eq!(&p.to_hex(), id, "step {}: {:?}", step, op)
                    }
                    (Some((_, _, Fate::Lost)), Err(e)) => {
                        prop_assert_eq!(e.kind, sqlvault::Kind::Repository, "{}", e.message)
                    }
                    (None, Err(_)) => {}
                    (want, got) => prop_assert!(
                        false,
                        "step {} ({:?}): {} expected {:?}, got {:?}",
                        step, op, name, want, got.map(|(p, _)| p.to_hex())
                    ),
                }
            }
        }
    }
}
