//! Workers: the same pipeline, run from jobs taken off an Azure Storage
//! queue, so backups run near the databases and scale past one machine.
//!
//! - A dispatcher (`run`/`backup`/`archive`/`restore --dispatch`) puts one
//!   job per database on the queue and waits for the results.
//! - A worker takes a job, keeps it invisible to others with a heartbeat
//!   while it runs, records the result in the repository as a session, and
//!   only then deletes the message. Results travel back through the
//!   repository: the dispatcher reads the sessions tagged with its id.
//! - Delivery is at least once; the effect is once: a backup job's id is
//!   written into its restore point, and a worker that finds it there
//!   acknowledges the job without backing up again.
//! - A job that fails `max-attempts` times, and a message that is not a
//!   job, go to `<queue>-poison` with the reason.

pub mod dispatch;
pub mod execute;
pub mod identity;
pub mod job;
pub mod presence;
pub mod queue;
pub mod queue_url;
pub mod serve;
pub mod status;
