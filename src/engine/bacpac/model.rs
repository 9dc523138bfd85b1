//! The tables of a package and their columns, read from model.xml as it
//! streams by (a model can be large; it is never held whole).

use super::types::TypeSpec;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::collections::HashMap;
use std::io::BufRead;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub schema: String,
    pub name: String,
    /// The columns whose values the data parts hold, in their order.
    pub columns: Vec<ModelColumn>,
}

impl Table {
    /// `schema.name`, as `--table` and the fingerprints name it.
    pub fn key(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelColumn {
    pub name: String,
    pub spec: TypeSpec,
}

/// What the parser gathers about a column or alias type before the alias
/// types are resolved.
#[derive(Debug, Clone, Default)]
struct Pending {
    name: String,
    nullable: Option<bool>,
    length: Option<u32>,
    is_max: bool,
    scale: Option<u8>,
    /// The type's name and whether it is built in.
    type_ref: Option<(String, bool)>,
}

enum Frame {
    Table,
    Column,
    TypeSpec,
    Alias,
    OtherElement,
    Relationship(String),
    Other,
}

/// The parts of a bracketed multi-part name: `[dbo].[a]]b]` → dbo, a]b.
pub fn name_parts(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut inside = false;
    while let Some(c) = chars.next() {
        match (inside, c) {
            (false, '[') => inside = true,
            (true, ']') if chars.peek() == Some(&']') => {
                chars.next();
                cur.push(']');
            }
            (true, ']') => {
                inside = false;
                parts.push(std::mem::take(&mut cur));
            }
            (true, c) => cur.push(c),
            (false, _) => {}
        }
    }
    parts
}

/// The innermost element being read.
fn element(s: &[Frame]) -> Option<&Frame> {
    s.iter()
        .rev()
        .find(|f| !matches!(f, Frame::Relationship(_) | Frame::Other))
}

/// The innermost relationship's name.
fn relationship(s: &[Frame]) -> Option<String> {
    s.iter().rev().find_map(|f| match f {
        Frame::Relationship(n) => Some(n.clone()),
        _ => None,
    })
}

fn attr(e: &BytesStart, key: &str) -> Option<String> {
    e.try_get_attribute(key).ok().flatten().and_then(|a| {
        a.normalized_value(quick_xml::XmlVersion::default())
            .ok()
            .map(|v| v.into_owned())
    })
}

/// Read the tables of a model.
pub fn read_tables<R: BufRead>(r: R) -> Result<Vec<Table>, String> {
    let mut reader = Reader::from_reader(r);
    let mut buf = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut tables: Vec<(String, Vec<Pending>)> = Vec::new();
    let mut aliases: HashMap<String, Pending> = HashMap::new();
    let mut column = Pending::default();
    let mut alias = Pending::default();
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => (None, false),
            Event::Eof => break,
            _ => {
                buf.clear();
                continue;
            }
        };
        if let Some(e) = start {
            let frame = match e.local_name().as_ref() {
                b"Element" => {
                    let ty = attr(&e, "Type").unwrap_or_default();
                    let name = attr(&e, "Name").unwrap_or_default();
                    let outer = element(&stack);
                    let rel = relationship(&stack);
                    match (ty.as_str(), outer, rel.as_deref()) {
                        ("SqlTable", None, _) => {
                            tables.push((name, Vec::new()));
                            Frame::Table
                        }
                        ("SqlUserDefinedDataType", None, _) => {
                            alias = Pending {
                                name,
                                ..Pending::default()
                            };
                            Frame::Alias
                        }
                        ("SqlSimpleColumn", Some(Frame::Table), Some("Columns")) => {
                            column = Pending {
                                name,
                                ..Pending::default()
                            };
                            Frame::Column
                        }
                        // Computed columns hold no data in the parts.
                        (
                            "SqlTypeSpecifier" | "SqlXmlTypeSpecifier",
                            Some(Frame::Column),
                            Some("TypeSpecifier"),
                        ) => Frame::TypeSpec,
                        _ => Frame::OtherElement,
                    }
                }
                b"Relationship" => Frame::Relationship(attr(&e, "Name").unwrap_or_default()),
                b"Property" => {
                    let target = match element(&stack) {
                        Some(Frame::Column) | Some(Frame::TypeSpec) => Some(&mut column),
                        Some(Frame::Alias) => Some(&mut alias),
                        _ => None,
                    };
                    if let (Some(p), Some(k), Some(v)) =
                        (target, attr(&e, "Name"), attr(&e, "Value"))
                    {
                        let yes = v.eq_ignore_ascii_case("true");
                        match k.as_str() {
                            "IsNullable" => p.nullable = Some(yes),
                            "IsMax" => p.is_max = yes,
                            "Length" => p.length = v.parse().ok(),
                            "Scale" => p.scale = v.parse().ok(),
                            _ => {}
                        }
                    }
                    Frame::Other
                }
                b"References" => {
                    let in_type = relationship(&stack).as_deref() == Some("Type");
                    let target = match element(&stack) {
                        Some(Frame::TypeSpec) if in_type => Some(&mut column),
                        Some(Frame::Alias) if in_type => Some(&mut alias),
                        _ => None,
                    };
                    if let (Some(p), Some(n)) = (target, attr(&e, "Name")) {
                        let builtin = attr(&e, "ExternalSource").as_deref() == Some("BuiltIns");
                        p.type_ref = Some((n, builtin));
                    }
                    Frame::Other
                }
                _ => Frame::Other,
            };
            if empty {
                close(frame, &mut tables, &mut aliases, &mut column, &mut alias);
            } else {
                stack.push(frame);
            }
        } else if let Some(frame) = stack.pop() {
            close(frame, &mut tables, &mut aliases, &mut column, &mut alias);
        }
        buf.clear();
    }
    tables
        .into_iter()
        .map(|(name, cols)| resolve(&name, cols, &aliases))
        .collect()
}

fn close(
    frame: Frame,
    tables: &mut [(String, Vec<Pending>)],
    aliases: &mut HashMap<String, Pending>,
    column: &mut Pending,
    alias: &mut Pending,
) {
    match frame {
        Frame::Column => {
            if let Some(t) = tables.last_mut() {
                t.1.push(std::mem::take(column));
            }
        }
        Frame::Alias => {
            let a = std::mem::take(alias);
            aliases.insert(a.name.clone(), a);
        }
        _ => {}
    }
}

fn resolve(
    table: &str,
    cols: Vec<Pending>,
    aliases: &HashMap<String, Pending>,
) -> Result<Table, String> {
    let parts = name_parts(table);
    let [schema, name] = <[String; 2]>::try_from(parts)
        .map_err(|_| format!("table `{table}` is not a two-part name"))?;
    let columns = cols
        .into_iter()
        .map(|c| {
            let col_name = name_parts(&c.name).pop().unwrap_or_default();
            let (type_name, builtin) = c
                .type_ref
                .clone()
                .ok_or_else(|| format!("column `{}` has no type", c.name))?;
            let mut spec = TypeSpec {
                name: String::new(),
                length: c.length,
                is_max: c.is_max,
                scale: c.scale,
                nullable: c.nullable.unwrap_or(true),
            };
            let base = if builtin {
                type_name
            } else {
                let a = aliases.get(&type_name).ok_or_else(|| {
                    format!("column `{}` has the unknown type {type_name}", c.name)
                })?;
                spec.length = spec.length.or(a.length);
                spec.is_max |= a.is_max;
                spec.scale = spec.scale.or(a.scale);
                spec.nullable = c.nullable.or(a.nullable).unwrap_or(true);
                a.type_ref.clone().map(|t| t.0).unwrap_or_default()
            };
            spec.name = name_parts(&base).pop().unwrap_or_default().to_lowercase();
            Ok(ModelColumn {
                name: col_name,
                spec,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Table {
        schema,
        name,
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_names_split_with_escapes() {
        assert_eq!(
            name_parts("[dbo].[Order Details]"),
            ["dbo", "Order Details"]
        );
        assert_eq!(name_parts("[a]]b].[c.d]"), ["a]b", "c.d"]);
    }

    const MODEL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<DataSchemaModel xmlns="http://schemas.microsoft.com/sqlserver/dac/Serialization/2012/02"><Model>
<Element Type="SqlUserDefinedDataType" Name="[dbo].[id]">
  <Property Name="IsNullable" Value="False" /><Property Name="Length" Value="11" />
  <Relationship Name="Type"><Entry><References ExternalSource="BuiltIns" Name="[varchar]" /></Entry></Relationship>
</Element>
<Element Type="SqlTable" Name="[dbo].[t]">
  <Relationship Name="Columns">
    <Entry><Element Type="SqlSimpleColumn" Name="[dbo].[t].[a]">
      <Relationship Name="TypeSpecifier"><Entry><Element Type="SqlTypeSpecifier">
        <Relationship Name="Type"><Entry><References Name="[dbo].[id]" /></Entry></Relationship>
      </Element></Entry></Relationship>
    </Element></Entry>
    <Entry><Element Type="SqlComputedColumn" Name="[dbo].[t].[c]" /></Entry>
    <Entry><Element Type="SqlSimpleColumn" Name="[dbo].[t].[b]">
      <Property Name="IsNullable" Value="False" />
      <Relationship Name="TypeSpecifier"><Entry><Element Type="SqlTypeSpecifier">
        <Property Name="Scale" Value="2" /><Property Name="Precision" Value="8" />
        <Relationship Name="Type"><Entry><References ExternalSource="BuiltIns" Name="[decimal]" /></Entry></Relationship>
      </Element></Entry></Relationship>
    </Element></Entry>
  </Relationship>
</Element>
<Element Type="SqlView" Name="[dbo].[v]" />
</Model></DataSchemaModel>"#;

    #[test]
    fn tables_columns_and_alias_types_are_read() {
        let t = read_tables(MODEL.as_bytes()).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].key(), "dbo.t");
        let c = &t[0].columns;
        assert_eq!(c.len(), 2, "the computed column holds no data");
        assert_eq!(
            (c[0].name.as_str(), c[0].spec.name.as_str()),
            ("a", "varchar")
        );
        assert_eq!((c[0].spec.length, c[0].spec.nullable), (Some(11), false));
        assert_eq!(
            (c[1].spec.name.as_str(), c[1].spec.scale),
            ("decimal", Some(2))
        );
        assert!(!c[1].spec.nullable);
    }
}
