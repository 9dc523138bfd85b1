//! Table data through the stream format on a private MariaDB: values that
//! trip dump formats (NULLs, tabs, newlines, backslashes, NUL bytes,
//! 4-byte characters, JSON, exact decimals, microseconds, bits) come back
//! byte for byte through `LOAD DATA LOCAL INFILE`, with equal fingerprints.

use crate::mariadb_common;

use mariadb_common::server;
use mysql::prelude::Queryable;
use sqlvault::engine::mariadb::rows::{export, load};

#[test]
fn rows_survive_export_and_load_with_equal_fingerprints() {
    let s = server();
    s.create_db("rows_db", "utf8mb4");
    s.exec(
        Some("rows_db"),
        r#"CREATE TABLE t (
             id INT PRIMARY KEY,
             name VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
             latin VARCHAR(20) CHARACTER SET latin1,
             body TEXT,
             data BLOB,
             price DECIMAL(65,30),
             ratio DOUBLE,
             at DATETIME(6),
             flags BIT(9),
             doc JSON,
             kind ENUM('a','b c'),
             tags SET('x','y','z')
           ) ENGINE=InnoDB;
           INSERT INTO t VALUES
             (1, 'plain', 'café', 'a\tb\nc\\d', X'00FF005C0A09', 12345678901234567890.123456789012345678901234567890,
              -1.7976931348623157e308, '2026-12-03 10:15:30.123456', b'101010101', '{"k": [1, "two", null]}', 'b c', 'x,z'),
             (2, '𝄞 ünï 🦀', NULL, '', X'', 0, 2.2250738585072014e-308, '1000-01-01 00:00:00', b'0', 'null', 'a', ''),
             (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             (4, 'back\\slash\\N', 'tab	in', 'line\r\nbreak', X'5C4E', -0.000000000000000000000000000001, 0, '2038-01-19 03:14:08', b'111111111', '"\\u0000"', 'a', 'y');"#,
    );
    let mut c = s.client();
    c.query_drop("USE rows_db").unwrap();
    let mut out = Vec::new();
    let digest = export(&mut c, "SELECT * FROM rows_db.t", &mut out).unwrap();
    assert_eq!(digest.rows, 4);
    c.query_drop("CREATE TABLE t_copy LIKE t").unwrap();
    let loaded = load(
        &mut c,
        "`rows_db`.`t_copy`",
        "",
        Box::new(std::io::Cursor::new(out.clone())),
    )
    .unwrap();
    assert_eq!(loaded, 4);
    let mut again = Vec::new();
    let digest2 = export(&mut c, "SELECT * FROM rows_db.t_copy", &mut again).unwrap();
    assert_eq!(
        digest2,
        digest,
        "the loaded rows differ:\n{}\nfrom:\n{}",
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&out)
    );
    let warnings: u64 = c.query_first("SELECT @@warning_count").unwrap().unwrap();
    assert_eq!(warnings, 0);
    s.exec(None, "DROP DATABASE rows_db");
}
