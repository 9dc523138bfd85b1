//! One suite every storage backend must pass, run unchanged against each:
//! local directory, memory, and Azure Blob (a real Azurite).

mod azurite;

use sqlvault::storage::azure::Tuning;
use sqlvault::storage::{
    AzureStorage, LocalStorage, MemoryStorage, PutOutcome, Storage, StorageError,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn conformance(s: Arc<dyn Storage>) {
    s.create().unwrap();
    // Creating an existing location again is fine.
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
    assert!(s.get_range("packs/ab/one", 10, 1).is_err());
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
    // an empty object, and a large one that crosses every size threshold.
    assert_eq!(
        s.put_if_absent("keys/empty", b"").unwrap(),
        PutOutcome::Created
    );
    assert_eq!(s.get("keys/empty").unwrap(), b"");
    let big: Vec<u8> = (0..3_000_001u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert_eq!(
        s.put_if_absent("packs/cd/big", &big).unwrap(),
        PutOutcome::Created
    );
    assert_eq!(s.get("packs/cd/big").unwrap(), big);
    assert_eq!(
        s.get_range("packs/cd/big", 999_999, 1_500_000).unwrap(),
        &big[999_999..2_499_999]
    );
    assert_eq!(
        s.put_if_absent("packs/cd/big", b"other").unwrap(),
        PutOutcome::AlreadyExists
    );
    // listing by prefix, with many objects (more than one page).
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
    let mut packs = s.list("packs/").unwrap();
    packs.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(packs.len(), 2);
    assert_eq!(packs[0].name, "packs/ab/one");
    assert_eq!(packs[0].size, 5);
    assert_eq!(packs[1].size, big.len() as u64);
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

/// Shared holders coexist; an exclusive one waits for them and keeps new
/// shared ones out. `other` is a second handle on the same location (a
/// second process, as far as the backend can tell).
fn locks(s: Arc<dyn Storage>, other: Arc<dyn Storage>) {
    s.create().unwrap();
    let a = s.lock("repository", true).unwrap();
    let b = other.lock("repository", true).unwrap();
    let got = AtomicBool::new(false);
    std::thread::scope(|sc| {
        let t = sc.spawn(|| {
            let g = other.lock("repository", false).unwrap();
            got.store(true, Ordering::SeqCst);
            g
        });
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            !got.load(Ordering::SeqCst),
            "exclusive lock taken beside shared ones"
        );
        drop(a);
        drop(b);
        let exclusive = t.join().unwrap();
        assert!(got.load(Ordering::SeqCst));
        got.store(false, Ordering::SeqCst);
        let t = sc.spawn(|| {
            let g = s.lock("repository", true).unwrap();
            got.store(true, Ordering::SeqCst);
            g
        });
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            !got.load(Ordering::SeqCst),
            "shared lock taken beside an exclusive one"
        );
        drop(exclusive);
        drop(t.join().unwrap());
    });
    // Locks of different names are independent.
    let _run = s.lock("run", false).unwrap();
    let _repo = other.lock("repository", false).unwrap();
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
    let root = dir.path().join("repo");
    locks(
        Arc::new(LocalStorage::new(&root)),
        Arc::new(LocalStorage::new(&root)),
    );
}

#[test]
fn memory_storage() {
    conformance(Arc::new(MemoryStorage::new()));
}

fn azure(az: &azurite::Azurite, location: &str) -> Arc<dyn Storage> {
    let cs = az.connection_string();
    let env = move |k: &str| (k == "AZURE_STORAGE_CONNECTION_STRING").then(|| cs.clone());
    // Small sizes so that every path (single put, staged blocks, parallel
    // ranged reads, listing pages) runs on little data.
    let tuning = Tuning {
        single_put_max: 1 << 20,
        block_size: 256 << 10,
        parallel: 4,
        list_page: Some(100),
        lease_seconds: 15,
        retry_seconds: 10,
    };
    Arc::new(AzureStorage::open_with(location, &env, tuning).unwrap())
}

#[test]
fn azure_storage() {
    let az = azurite::Azurite::start();
    conformance(azure(&az, &az.url("conformance")));
    // The same under a prefix, beside other data in the container.
    conformance(azure(&az, &az.url("conformance/some/prefix")));
    let url = az.url("locks");
    locks(azure(&az, &url), azure(&az, &url));
}

#[test]
fn azure_stale_shared_lock_of_a_killed_process_is_cleared() {
    let az = azurite::Azurite::start();
    let s = azure(&az, &az.url("stale"));
    s.create().unwrap();
    // What a killed backup leaves: a shared lock blob whose lease is gone.
    s.put_if_absent("locks/repository/shared-dead", b"")
        .unwrap();
    let t = std::time::Instant::now();
    let g = s.lock("repository", false).unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    assert!(!s.exists("locks/repository/shared-dead").unwrap());
    drop(g);
}
