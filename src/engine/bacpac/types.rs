//! SQL Server column types as the data parts of a BACPAC frame them.
//!
//! DacFx writes table data in SQL Server's native BCP format: no row or
//! column separators, each value in its own binary form, most behind a
//! length prefix whose width depends on the type. The framings below are
//! the ones the packages of every DacFx version we hold agree on; a type
//! not listed is not decoded (the package is still stored whole, and the
//! table is reported as not fingerprinted).

/// What a value means, for showing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Bit,
    Real,
    Float,
    SmallMoney,
    Money,
    SmallDateTime,
    DateTime,
    Date,
    Decimal {
        scale: u8,
    },
    Guid,
    /// Character data: UTF-16LE, whatever the column's own type.
    Text,
    Binary,
    /// XML as UTF-16LE text.
    Xml,
}

/// How a value is framed in a data part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A NOT NULL fixed-width value: these bytes, no prefix.
    Fixed(u32),
    /// A one-byte length (0xFF: NULL), then the value; `width` is the only
    /// length a value may have, when the type has one.
    Byte { width: Option<u8> },
    /// A two-byte length (0xFFFF: NULL).
    Short,
    /// Four bytes of length (0xFFFFFFFF: NULL): text, ntext, image.
    Long,
    /// Eight bytes of length (all ones: NULL): the MAX types and xml.
    Huge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnType {
    pub kind: Kind,
    pub framing: Framing,
}

/// A column's type as model.xml describes it, alias types resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeSpec {
    /// The built-in type's name, lower case, without brackets (`nvarchar`).
    pub name: String,
    pub length: Option<u32>,
    pub is_max: bool,
    pub scale: Option<u8>,
    pub nullable: bool,
}

/// The framing of a column of this type, or why it is not decoded.
pub fn column_type(t: &TypeSpec) -> Result<ColumnType, String> {
    use Kind::*;
    let fixed = |kind, width: u32| ColumnType {
        kind,
        framing: if t.nullable {
            Framing::Byte {
                width: Some(width as u8),
            }
        } else {
            Framing::Fixed(width)
        },
    };
    let byte = |kind, width| ColumnType {
        kind,
        framing: Framing::Byte { width },
    };
    let var = |kind| ColumnType {
        kind,
        framing: if t.is_max {
            Framing::Huge
        } else {
            Framing::Short
        },
    };
    let long = |kind| ColumnType {
        kind,
        framing: Framing::Long,
    };
    Ok(match t.name.as_str() {
        "tinyint" => fixed(TinyInt, 1),
        "smallint" => fixed(SmallInt, 2),
        "int" => fixed(Int, 4),
        "bigint" => fixed(BigInt, 8),
        "real" => fixed(Real, 4),
        "float" => fixed(Float, 8),
        "smallmoney" => fixed(SmallMoney, 4),
        "money" => fixed(Money, 8),
        "smalldatetime" => fixed(SmallDateTime, 4),
        "datetime" => fixed(DateTime, 8),
        "date" => fixed(Date, 3),
        // These carry their length byte even when NOT NULL.
        "bit" => byte(Bit, Some(1)),
        "uniqueidentifier" => byte(Guid, Some(16)),
        "decimal" | "numeric" => byte(
            Decimal {
                scale: t.scale.unwrap_or(0),
            },
            None,
        ),
        // char(n) NOT NULL is written as n UTF-16 code units without a
        // length; nchar(n) NOT NULL keeps its length.
        "char" if !t.nullable && !t.is_max => ColumnType {
            kind: Text,
            framing: Framing::Fixed(2 * t.length.unwrap_or(1)),
        },
        "char" | "varchar" | "nchar" | "nvarchar" => var(Text),
        "sysname" => ColumnType {
            kind: Text,
            framing: Framing::Short,
        },
        "varbinary" => var(Binary),
        "xml" => ColumnType {
            kind: Xml,
            framing: Framing::Huge,
        },
        "text" | "ntext" => long(Text),
        "image" => long(Binary),
        other => return Err(format!("its column type `{other}` is not decoded yet")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, nullable: bool) -> TypeSpec {
        TypeSpec {
            name: name.into(),
            nullable,
            length: Some(12),
            ..TypeSpec::default()
        }
    }

    #[test]
    fn fixed_width_types_take_a_length_byte_only_when_nullable() {
        assert_eq!(
            column_type(&spec("int", false)).unwrap().framing,
            Framing::Fixed(4)
        );
        assert_eq!(
            column_type(&spec("int", true)).unwrap().framing,
            Framing::Byte { width: Some(4) }
        );
        assert_eq!(
            column_type(&spec("bit", false)).unwrap().framing,
            Framing::Byte { width: Some(1) }
        );
    }

    #[test]
    fn char_not_null_is_padded_utf16_and_nchar_keeps_its_length() {
        assert_eq!(
            column_type(&spec("char", false)).unwrap().framing,
            Framing::Fixed(24)
        );
        assert_eq!(
            column_type(&spec("char", true)).unwrap().framing,
            Framing::Short
        );
        assert_eq!(
            column_type(&spec("nchar", false)).unwrap().framing,
            Framing::Short
        );
        let mut max = spec("nvarchar", true);
        max.is_max = true;
        assert_eq!(column_type(&max).unwrap().framing, Framing::Huge);
    }

    #[test]
    fn an_unknown_type_says_which() {
        let e = column_type(&spec("datetimeoffset", false)).unwrap_err();
        assert!(e.contains("datetimeoffset"), "{e}");
    }
}
