//! Objects in memory: for fast repository tests, and the reference the
//! storage conformance suite holds every backend to.

use super::{ObjectInfo, PutOutcome, Storage, StorageError};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct MemoryStorage {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Storage for MemoryStorage {
    fn location(&self) -> String {
        "memory".into()
    }

    fn create(&self) -> Result<(), StorageError> {
        Ok(())
    }

    fn put_if_absent(&self, name: &str, data: &[u8]) -> Result<PutOutcome, StorageError> {
        let mut m = self.objects.lock().unwrap();
        if m.contains_key(name) {
            return Ok(PutOutcome::AlreadyExists);
        }
        m.insert(name.to_string(), data.to_vec());
        Ok(PutOutcome::Created)
    }

    fn get(&self, name: &str) -> Result<Vec<u8>, StorageError> {
        self.objects
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .ok_or_else(|| StorageError::NotFound(name.to_string()))
    }

    fn get_range(&self, name: &str, offset: u64, len: u64) -> Result<Vec<u8>, StorageError> {
        let m = self.objects.lock().unwrap();
        let data = m
            .get(name)
            .ok_or_else(|| StorageError::NotFound(name.to_string()))?;
        let end = offset.checked_add(len).filter(|&e| e <= data.len() as u64);
        match end {
            Some(end) => Ok(data[offset as usize..end as usize].to_vec()),
            None => Err(StorageError::Truncated(name.to_string())),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| ObjectInfo {
                name: k.clone(),
                size: v.len() as u64,
            })
            .collect())
    }

    fn delete(&self, name: &str) -> Result<(), StorageError> {
        self.objects.lock().unwrap().remove(name);
        Ok(())
    }
}
