//! Opening a store: its schema brought up to date by the backend's migrations, then what SQL
//! cannot do by itself because the keys are computed by the store's code — name keys of an older
//! key function re-keyed (`rekey`), e-mail addresses indexed (`identities`). Both only read a
//! store that is up to date.

use crate::database::Store;
use crate::error::StoreError;
use crate::identities::index_email_addresses;
use crate::rekey::rekey_names;

impl Store {
    /// Connects to `url` (`sqlite://FILE`, `sqlite::memory:`, or `postgres://…`), applies its
    /// migrations and brings its stored keys up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let store = Store::open(url).await?;
        rekey_names(&store).await?;
        index_email_addresses(&store).await?;
        Ok(store)
    }
}
