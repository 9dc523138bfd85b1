//! What the session records say should be in the repository: every point
//! a backup wrote, minus those prune, archive or repair removed since. A
//! manifest deleted by hand (or lost) shows up here, where listing
//! `points/` alone would never notice it.

use crate::error::Result;
use crate::repo::Repository;
use crate::repo::ids::PointId;
use std::collections::{HashMap, HashSet};

/// Points the sessions say exist but that are not in `present`, each as
/// (id, database, when it was written).
pub fn missing_points(
    repo: &Repository,
    present: &HashSet<PointId>,
) -> Result<Vec<(String, String, String)>> {
    let mut written: HashMap<String, (String, String)> = HashMap::new();
    let mut removed: HashSet<String> = HashSet::new();
    for (_, s) in repo.sessions()? {
        let command = s["command"].as_str().unwrap_or("");
        let started = s["started_at"].as_str().unwrap_or("").to_string();
        let items = s["databases"].as_array().cloned().unwrap_or_default();
        for item in items {
            let Some(id) = item["restore_point"].as_str() else {
                continue;
            };
            let note = item["note"].as_str().unwrap_or("");
            let ok = item["status"] == "ok";
            match command {
                "backup" | "run" if ok => {
                    let db = item["database"].as_str().unwrap_or("?").to_string();
                    written.insert(id.to_string(), (db, started.clone()));
                }
                "prune" if note.starts_with("deleted") => {
                    removed.insert(id.to_string());
                }
                "archive" if note.starts_with("moved") => {
                    removed.insert(id.to_string());
                }
                "repair" if note.starts_with("forgotten") => {
                    removed.insert(id.to_string());
                }
                _ => {}
            }
        }
    }
    let present: HashSet<String> = present.iter().map(|p| p.to_hex()).collect();
    let mut out: Vec<(String, String, String)> = written
        .into_iter()
        .filter(|(id, _)| !removed.contains(id) && !present.contains(id))
        .map(|(id, (db, when))| (id, db, when))
        .collect();
    out.sort_by(|a, b| a.2.cmp(&b.2));
    Ok(out)
}
