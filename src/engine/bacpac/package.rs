//! The package as a ZIP (OPC) file: its entries, Origin.xml, and which
//! data part belongs to which table.

use super::Bacpac;
use super::source::{BlobReader, ReadSeek};
use crate::error::{Error, Result};
use quick_xml::Reader;
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};
use zip::ZipArchive;

/// A package being read, wherever it is.
pub type Archive = ZipArchive<Box<dyn ReadSeek>>;

pub const MODEL: &str = "model.xml";
pub const ORIGIN: &str = "Origin.xml";
pub const METADATA: &str = "DacMetadata.xml";
/// Where table data lives: `Data/<schema>.<table>/TableData-NNN-NNNNN.BCP`,
/// the folder name percent-encoded.
pub const DATA_PREFIX: &str = "Data/";

/// One entry of the package, as restore writes it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The name in the ZIP, as stored (`Data/dbo.Order%20Details/...`).
    pub name: String,
    /// `stored` or `deflated`.
    pub method: String,
    /// The entry's MS-DOS date and time fields.
    pub modified: [u16; 2],
    pub size: u64,
    pub crc32: u32,
}

/// What Origin.xml says about the export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub contains_data: bool,
    pub total_rows: Option<u64>,
    /// The SHA-256 of model.xml, upper-case hex.
    pub model_checksum: Option<String>,
    pub exporter: Option<String>,
    pub server_version: Option<String>,
}

pub fn open(pkg: &Bacpac) -> Result<Archive> {
    let p = pkg.shown();
    let reader: Box<dyn ReadSeek> = match &pkg.blob {
        Some(url) => Box::new(BlobReader::open(url)?),
        None => Box::new(std::fs::File::open(&pkg.path).map_err(|e| {
            match e.kind() {
                std::io::ErrorKind::NotFound => Error::database(format!("{p} does not exist"))
                    .with_hint("check the path of the package to back up"),
                _ => Error::database(format!("cannot open {p}: {e}")),
            }
        })?),
    };
    ZipArchive::new(reader).map_err(|e| match read_error(e) {
        Ok(err) => err,
        Err(e) => Error::database(format!(
            "{p} is not a BACPAC or DACPAC package (not a ZIP file: {e})"
        ))
        .with_hint("give a package exported by SqlPackage, SSMS or the Azure portal"),
    })
}

/// The error of the storage a package is read from, when that is what
/// failed (a blob that cannot be read is not a damaged package).
fn read_error(e: zip::result::ZipError) -> std::result::Result<Error, zip::result::ZipError> {
    match e {
        zip::result::ZipError::Io(io) if io.get_ref().is_some_and(|i| i.is::<Error>()) => {
            Ok(storage_error(io))
        }
        other => Err(other),
    }
}

/// The error a blob reader wrapped in an I/O error.
fn storage_error(io: std::io::Error) -> Error {
    match io.into_inner().map(|i| i.downcast::<Error>()) {
        Some(Ok(e)) => *e,
        Some(Err(other)) => Error::database(other.to_string()),
        None => Error::database("cannot read the package"),
    }
}

/// The entries in the order the package stores them.
pub fn entries<R: std::io::Read + std::io::Seek>(
    zip: &mut ZipArchive<R>,
    shown: &str,
) -> Result<Vec<Entry>> {
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| zip_damaged(shown, e))?;
        let name = f.name().map_err(|e| zip_damaged(shown, e))?.into_owned();
        let method = match f.compression() {
            zip::CompressionMethod::Stored => "stored",
            zip::CompressionMethod::Deflated => "deflated",
            other => {
                return Err(Error::database(format!(
                    "{shown}: entry `{name}` is compressed with {other}, which packages do not use"
                ))
                .with_hint("give the package as SqlPackage wrote it"));
            }
        };
        let modified = f
            .last_modified()
            .map(|d| [d.datepart(), d.timepart()])
            .unwrap_or([0x21, 0]);
        out.push(Entry {
            name,
            method: method.into(),
            modified,
            size: f.size(),
            crc32: f.crc32(),
        });
    }
    Ok(out)
}

pub fn damaged(shown: &str, e: impl std::fmt::Display) -> Error {
    Error::database(format!("{shown} is damaged: {e}"))
        .with_hint("export the package again, or copy it again from where it was made")
}

/// A ZIP error while reading a package: the storage's own, or damage.
pub fn zip_damaged(shown: &str, e: zip::result::ZipError) -> Error {
    read_error(e).unwrap_or_else(|e| damaged(shown, e))
}

/// An I/O error while reading an entry: the storage's own, or damage.
pub fn io_damaged(shown: &str, e: std::io::Error) -> Error {
    if e.get_ref().is_some_and(|i| i.is::<Error>()) {
        return storage_error(e);
    }
    damaged(shown, e)
}

/// The `schema.table` a data part belongs to, from its folder name.
pub fn part_table(entry: &str) -> Option<String> {
    let rest = entry.strip_prefix(DATA_PREFIX)?;
    let (dir, file) = rest.split_once('/')?;
    if file.is_empty() || file.contains('/') {
        return None;
    }
    Some(
        percent_encoding::percent_decode_str(dir)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// Read Origin.xml (a small file; a UTF-8 BOM is allowed).
pub fn read_origin(bytes: &[u8]) -> std::result::Result<Origin, String> {
    let mut r = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut model_uri = false;
    let mut o = Origin::default();
    loop {
        match r.read_event_into(&mut buf).map_err(|e| e.to_string())? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "Checksum" {
                    model_uri = e
                        .try_get_attribute("Uri")
                        .ok()
                        .flatten()
                        .is_some_and(|a| a.value.as_ref() == b"/model.xml");
                }
                path.push(name);
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                let text = text.trim();
                match path.last().map(String::as_str) {
                    Some("ContainsExportedData") => {
                        o.contains_data = text.eq_ignore_ascii_case("true")
                    }
                    Some("TableRowCountTotalTag") => o.total_rows = text.parse().ok(),
                    Some("Checksum") if model_uri => o.model_checksum = Some(text.to_uppercase()),
                    Some("ProductVersion") if o.exporter.is_none() => {
                        o.exporter = Some(text.to_string())
                    }
                    // The first line names the product and version.
                    Some("ServerVersion") if o.server_version.is_none() => {
                        o.server_version = text.lines().next().map(|l| l.trim().to_string())
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(o)
}

/// The database's name from DacMetadata.xml (`<Name>`).
pub fn read_metadata_name(bytes: &[u8]) -> Option<String> {
    let mut r = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut in_name = false;
    loop {
        match r.read_event_into(&mut buf).ok()? {
            Event::Start(e) => in_name = e.local_name().as_ref() == b"Name",
            Event::Text(t) if in_name => {
                let name = t.decode().ok()?.trim().to_string();
                return (!name.is_empty()).then_some(name);
            }
            Event::End(_) => in_name = false,
            Event::Eof => return None,
            _ => {}
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_name_their_table_percent_decoded() {
        assert_eq!(
            part_table("Data/dbo.Order%20Details/TableData-000-00000.BCP").as_deref(),
            Some("dbo.Order Details")
        );
        assert_eq!(part_table("model.xml"), None);
        assert_eq!(part_table("Data/x"), None);
    }

    #[test]
    fn origin_gives_rows_checksum_and_exporter() {
        let xml = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<DacOrigin xmlns=\"x\"><PackageProperties><ContainsExportedData>true</ContainsExportedData></PackageProperties>\
<Operation><ProductVersion>15.0.5282.3</ProductVersion></Operation>\
<Server><ServerVersion>Microsoft SQL Server 2019 (RTM)\n\tmore &lt;X64&gt;</ServerVersion></Server>\
<ExportStatistics><TableRowCountTotalTag>3308</TableRowCountTotalTag></ExportStatistics>\
<Checksums><Checksum Uri=\"/model.xml\">97ee86</Checksum></Checksums></DacOrigin>";
        let o = read_origin(xml.as_bytes()).unwrap();
        assert!(o.contains_data);
        assert_eq!(o.total_rows, Some(3308));
        assert_eq!(o.model_checksum.as_deref(), Some("97EE86"));
        assert_eq!(o.exporter.as_deref(), Some("15.0.5282.3"));
        assert_eq!(
            o.server_version.as_deref(),
            Some("Microsoft SQL Server 2019 (RTM)")
        );
    }
}
