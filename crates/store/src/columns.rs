//! Reading a row's columns by name, alike from sqlx's rows and from direct SQLite reads, so each
//! record is decoded by one function.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::StoreError;

pub(crate) trait Columns {
    fn text(&self, column: &str) -> Result<String, StoreError>;
    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, column: &str) -> Result<i64, StoreError>;
}

impl Columns for AnyRow {
    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.try_get(column).map_err(StoreError::backend)
    }

    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.try_get(column).map_err(StoreError::backend)
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.try_get(column).map_err(StoreError::backend)
    }
}

/// A row read directly from SQLite, with its statement's column names read once: rusqlite's
/// lookup by name asks SQLite for every column's name on every lookup, which for a record of a
/// dozen columns cost about as much as the read itself.
pub(crate) struct DirectRow<'a> {
    pub(crate) row: &'a rusqlite::Row<'a>,
    pub(crate) names: &'a [&'a str],
}

impl DirectRow<'_> {
    fn get<T: rusqlite::types::FromSql>(&self, column: &str) -> Result<T, StoreError> {
        let index = self
            .names
            .iter()
            .position(|name| *name == column)
            .ok_or_else(|| StoreError::Backend(format!("column {column}: not in the result")))?;
        self.row.get(index).map_err(|e| StoreError::Backend(format!("column {column}: {e}")))
    }
}

impl Columns for DirectRow<'_> {
    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.get(column)
    }

    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.get(column)
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.get(column)
    }
}
