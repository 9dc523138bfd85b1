//! Azure SQL Database through BACPAC: a copy of the database on a staging
//! server, exported to a package in a staging blob by Azure Resource
//! Manager, read from there into the repository by the package engine;
//! restores import a package as a new database.

pub mod url;
