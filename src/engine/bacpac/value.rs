//! Values of a data part as text, for a table restored as CSV or JSON
//! lines. The forms are SQL Server's own where it has one: `2026-12-03
//! 10:15:30.997` for datetime, upper-case GUIDs, `0x`-prefixed upper-case
//! hex for binary, money with four decimals.

use super::types::Kind;

#[derive(Debug, Clone, PartialEq)]
pub enum Rendered {
    Null,
    Text(String),
    /// Digits, a sign and a decimal point: a JSON number.
    Number(String),
    Bool(bool),
}

fn le<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    let n = b.len().min(N);
    a[..n].copy_from_slice(&b[..n]);
    a
}

/// The value `bytes` (never NULL here) of a column of kind `kind`.
pub fn render(kind: Kind, b: &[u8]) -> Rendered {
    use Rendered::*;
    match kind {
        Kind::TinyInt => Number(b.first().copied().unwrap_or(0).to_string()),
        Kind::SmallInt => Number(i16::from_le_bytes(le(b)).to_string()),
        Kind::Int => Number(i32::from_le_bytes(le(b)).to_string()),
        Kind::BigInt => Number(i64::from_le_bytes(le(b)).to_string()),
        Kind::Bit => Bool(b.first().is_some_and(|&v| v != 0)),
        Kind::Real => Number(float(f32::from_le_bytes(le(b)) as f64, true)),
        Kind::Float => Number(float(f64::from_le_bytes(le(b)), false)),
        Kind::SmallMoney => Number(scaled(i32::from_le_bytes(le(b)) as i128, 4)),
        Kind::Money => {
            // The high half first, then the low half.
            let hi = i32::from_le_bytes(le(b)) as i64;
            let lo = u32::from_le_bytes(le(b.get(4..).unwrap_or(&[]))) as i64;
            Number(scaled(((hi << 32) | lo) as i128, 4))
        }
        Kind::Decimal { scale } => {
            let (s, sign) = match b {
                [_, s, sign, ..] => (*s, *sign),
                _ => (scale, 1),
            };
            let magnitude = u128::from_le_bytes(le(b.get(3..).unwrap_or(&[])));
            let v = if sign == 0 {
                -(magnitude as i128)
            } else {
                magnitude as i128
            };
            Number(scaled(v, s as u32))
        }
        Kind::DateTime => {
            let days = i32::from_le_bytes(le(b)) as i64;
            let ticks = u32::from_le_bytes(le(b.get(4..).unwrap_or(&[]))) as i64;
            // 1/300 s ticks, shown rounded to milliseconds as SQL Server does.
            let ms = (ticks * 10 + 1) / 3;
            Text(format!(
                "{} {}.{:03}",
                date(days - DAYS_1900),
                clock(ms / 1000),
                ms % 1000
            ))
        }
        Kind::SmallDateTime => {
            let days = u16::from_le_bytes(le(b)) as i64;
            let minutes = u16::from_le_bytes(le(b.get(2..).unwrap_or(&[]))) as i64;
            Text(format!(
                "{} {}",
                date(days - DAYS_1900),
                clock(minutes * 60)
            ))
        }
        Kind::Date => {
            let days = u32::from_le_bytes(le::<4>(&b[..b.len().min(3)])) as i64;
            Text(date(days - DAYS_0001))
        }
        Kind::Guid => {
            let g: [u8; 16] = le(b);
            Text(format!(
                "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{}-{}",
                g[3],
                g[2],
                g[1],
                g[0],
                g[5],
                g[4],
                g[7],
                g[6],
                hex::encode_upper(&g[8..10]),
                hex::encode_upper(&g[10..16])
            ))
        }
        Kind::Text | Kind::Xml => Text(utf16(b)),
        Kind::Binary => Text(format!("0x{}", hex::encode_upper(b))),
    }
}

/// Days from 0001-01-01 and from 1900-01-01 to 1970-01-01.
const DAYS_0001: i64 = 719_162;
const DAYS_1900: i64 = 25_567;

fn utf16(b: &[u8]) -> String {
    let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Shortest text that reads back as the same value (a real as a real).
fn float(v: f64, single: bool) -> String {
    if single {
        format!("{}", v as f32)
    } else {
        format!("{v}")
    }
}

fn scaled(v: i128, scale: u32) -> String {
    if scale == 0 {
        return v.to_string();
    }
    let digits = v.unsigned_abs().to_string();
    let s = scale as usize;
    let padded = format!("{digits:0>width$}", width = s + 1);
    let (int, frac) = padded.split_at(padded.len() - s);
    format!("{}{int}.{frac}", if v < 0 { "-" } else { "" })
}

fn clock(seconds: i64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The civil date `days` after 1970-01-01 (proleptic Gregorian).
fn date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(kind: Kind, b: &[u8]) -> String {
        match render(kind, b) {
            Rendered::Text(s) | Rendered::Number(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dates_and_times_read_as_sql_server_shows_them() {
        // 2007-09-01, midnight (a real AdventureWorks value).
        assert_eq!(
            text(Kind::DateTime, &[0x9c, 0x99, 0, 0, 0, 0, 0, 0]),
            "2007-09-01 00:00:00.000"
        );
        // 1 tick past midnight is .003, 2 ticks .007.
        assert_eq!(
            text(Kind::DateTime, &[0, 0, 0, 0, 2, 0, 0, 0]),
            "1900-01-01 00:00:00.007"
        );
        assert_eq!(text(Kind::Date, &[0x72, 0x3f, 0x0b]), "2019-03-21");
        assert_eq!(text(Kind::Date, &[0, 0, 0]), "0001-01-01");
        assert_eq!(
            text(Kind::SmallDateTime, &[1, 0, 61, 0]),
            "1900-01-02 01:01:00"
        );
    }

    #[test]
    fn money_and_decimals_keep_their_scale() {
        // 14.0000 as SQL Server writes it: high half, then low half.
        assert_eq!(
            text(Kind::Money, &[0, 0, 0, 0, 0xe0, 0x22, 2, 0]),
            "14.0000"
        );
        let mut d = vec![4, 2, 1, 0x1a, 0x04];
        d.resize(19, 0);
        assert_eq!(text(Kind::Decimal { scale: 2 }, &d), "10.50");
        d[2] = 0;
        d[3] = 5;
        d[4] = 0;
        assert_eq!(text(Kind::Decimal { scale: 2 }, &d), "-0.05");
        assert_eq!(
            text(Kind::SmallMoney, &(-12345i32).to_le_bytes()),
            "-1.2345"
        );
    }

    #[test]
    fn guids_text_and_binary() {
        let g = [
            0x38, 0x53, 0x76, 0x16, 0xe4, 0xdb, 0x21, 0x44, 0xb5, 0xe9, 0x38, 0x36, 0xb9, 0x27,
            0x8e, 0x63,
        ];
        assert_eq!(text(Kind::Guid, &g), "16765338-DBE4-4421-B5E9-3836B9278E63");
        let zoe: Vec<u8> = "Zoë 😀".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(text(Kind::Text, &zoe), "Zoë 😀");
        assert_eq!(text(Kind::Binary, &[0, 0xab]), "0x00AB");
        assert_eq!(render(Kind::Bit, &[1]), Rendered::Bool(true));
        assert_eq!(text(Kind::Float, &0.1f64.to_le_bytes()), "0.1");
        assert_eq!(text(Kind::Real, &0.1f32.to_le_bytes()), "0.1");
    }
}
