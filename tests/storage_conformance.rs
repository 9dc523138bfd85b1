//! One suite every storage backend must pass, run unchanged against each.

use sqlvault::storage::{LocalStorage, MemoryStorage, PutOutcome, Storage, StorageError};
use std::sync::Arc;

fn conformance(s: Arc<dyn Storage>) {
    s.create().unwrap();
    // put-if-absent never overwrites.
    assert_eq!(
        s.put_if_absent("packs/ab/one", b"first").unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        s.put_if_absent("packs/ab/one", b"second").unwrap(),
        PutOutcome::AlreadyExists
    );
    assert_eq!(s.get("packs/ab/one").unwrap(), b"first");
    // ranged reads, including empty and out-of-range ones.
    assert_eq!(s.get_range("packs/ab/one", 1, 3).unwrap(), b"irs");
    assert_eq!(s.get_range("packs/ab/one", 0, 0).unwrap(), b"");
    assert!(s.get_range("packs/ab/one", 3, 10).is_err());
    // missing objects.
    assert!(matches!(
        s.get("packs/zz/none"),
        Err(StorageError::NotFound(_))
    ));
    assert!(matches!(
        s.get_range("index/none", 0, 1),
        Err(StorageError::NotFound(_))
    ));
    assert!(!s.exists("index/none").unwrap());
    assert!(s.exists("packs/ab/one").unwrap());
    // listing by prefix, with many objects.
    for i in 0..300 {
        s.put_if_absent(&format!("index/{i:04}"), &[i as u8])
            .unwrap();
    }
    let mut names: Vec<_> = s
        .list("index/")
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    names.sort();
    assert_eq!(names.len(), 300);
    assert_eq!(names[0], "index/0000");
    let packs = s.list("packs/").unwrap();
    assert_eq!(packs.len(), 1);
    assert_eq!(packs[0].size, 5);
    assert!(s.list("points/").unwrap().is_empty());
    // delete is idempotent.
    s.delete("packs/ab/one").unwrap();
    s.delete("packs/ab/one").unwrap();
    assert!(!s.exists("packs/ab/one").unwrap());
    // concurrent writers of one name: exactly one creates it.
    let created: usize = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                let s = s.clone();
                sc.spawn(move || {
                    s.put_if_absent("points/race", format!("w{i}").as_bytes())
                        .unwrap()
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap())
            .filter(|o| *o == PutOutcome::Created)
            .count()
    });
    assert_eq!(created, 1);
    assert!(s.get("points/race").unwrap().starts_with(b"w"));
}

#[test]
fn local_storage() {
    let dir = tempfile::tempdir().unwrap();
    conformance(Arc::new(LocalStorage::new(dir.path().join("repo"))));
    // Nothing half-written is left behind in tmp/.
    let tmp: Vec<_> = std::fs::read_dir(dir.path().join("repo/tmp"))
        .unwrap()
        .collect();
    assert!(tmp.is_empty());
}

#[test]
fn memory_storage() {
    conformance(Arc::new(MemoryStorage::new()));
}
