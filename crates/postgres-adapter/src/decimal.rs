//! An exact decimal column for both databases: PostgreSQL `NUMERIC`, and on SQLite (which has no
//! exact decimal type) the decimal's text in a `TEXT` column. sea-orm reads SQLite decimals only
//! through `f64`; this type reads the text instead, so no value is ever a binary float.

use std::str::FromStr;

use rust_decimal::Decimal;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, Value, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, QueryResult, TryGetError, TryGetable};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbDecimal(pub Decimal);

impl From<DbDecimal> for Value {
    fn from(d: DbDecimal) -> Self {
        // PostgreSQL binds it as NUMERIC; sea-query binds it as its text on SQLite.
        Value::Decimal(Some(d.0))
    }
}

impl TryGetable for DbDecimal {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        match Decimal::try_get_by(res, index) {
            Ok(d) => Ok(Self(d)),
            // SQLite: the column holds the exact text.
            Err(_) => {
                let text = String::try_get_by(res, index)?;
                Decimal::from_str(&text)
                    .map(Self)
                    .map_err(|e| TryGetError::DbErr(sea_orm::DbErr::Type(format!("not a decimal: {text:?} ({e})"))))
            }
        }
    }
}

impl ValueType for DbDecimal {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::Decimal(Some(d)) => Ok(Self(d)),
            Value::String(Some(s)) => Decimal::from_str(&s).map(Self).map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "DbDecimal".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::Decimal
    }

    fn column_type() -> ColumnType {
        ColumnType::Decimal(None)
    }
}

impl Nullable for DbDecimal {
    fn null() -> Value {
        Value::Decimal(None)
    }
}
