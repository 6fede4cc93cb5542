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

impl Columns for rusqlite::Row<'_> {
    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.get(column).map_err(|e| StoreError::Backend(format!("column {column}: {e}")))
    }

    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.get(column).map_err(|e| StoreError::Backend(format!("column {column}: {e}")))
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.get(column).map_err(|e| StoreError::Backend(format!("column {column}: {e}")))
    }
}
