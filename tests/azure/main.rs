//! The tests against Azure Storage (a private Azurite) and the Azure SQL
//! contract server, one binary, so that their helpers are built once.

#[path = "../arm_contract/mod.rs"]
mod arm_contract;
#[path = "../azuresql_common/mod.rs"]
mod azuresql_common;
#[path = "../azurite/mod.rs"]
mod azurite;
#[path = "../azurite/cli.rs"]
mod azurite_cli;
#[path = "../bacpac_common/mod.rs"]
mod bacpac_common;
#[path = "../common/mod.rs"]
mod common;

mod azuresql;
mod azuresql_policy;
mod bacpac_blob;
mod cli;
mod faults;
