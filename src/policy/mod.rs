//! The backup policy's decisions: which restore points to keep and which
//! backup is due. Pure functions over the catalogue of restore points and
//! a clock reading, with no I/O, so that every calendar corner (month ends,
//! leap days, ISO week 53, DST changes) is tested without waiting for it.
//!
//! Calendar rules are applied in the policy's time zone: "daily" means the
//! policy's calendar day and "01:30" means 01:30 on its wall clock. Instants
//! are [`jiff::Timestamp`]s in UTC.

pub mod file;
mod model;
pub mod retention;
pub mod schedule;
#[cfg(test)]
mod testing;

pub use file::Policy;
pub use model::{
    BackupKind, DifferentialSchedule, Frequency, FullSchedule, PointSummary, Retention, Schedule,
    TimeOfDay, Weekday,
};
pub use retention::{Decision, decide};
pub use schedule::{Due, LOG_MINUTES, due, next_slots};
