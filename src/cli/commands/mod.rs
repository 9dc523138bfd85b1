pub mod backup;
pub mod init;
pub mod points;
pub mod restore;
pub mod sessions;
pub mod verify;
