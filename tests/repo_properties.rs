//! Property tests: any set of streams written through the chunk → pack →
//! index → manifest pipeline reads back byte for byte, and known content is
//! never stored twice.

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
