//! Stores for tests (feature `store`): a fresh SQLite store in memory, or a fresh PostgreSQL
//! database when the suite runs on PostgreSQL. Crates that test no store do not build sqlx.

/// A fresh, empty store for one test: in-memory SQLite, or a new PostgreSQL database when
/// `CROSSFED_TEST_DATABASE=postgres` (scripts/test runs the hub's suite both ways). PostgreSQL
/// databases are named `crossfed_hubtest_*`; scripts/test drops them afterwards.
pub async fn test_store(label: &str) -> crossfed_store::Store {
    let id = crossfed_store::new_id();
    if std::env::var("CROSSFED_TEST_DATABASE").as_deref() == Ok("postgres") {
        let url = create_database(&format!("crossfed_hubtest_{id}")).await;
        return crossfed_store::Store::connect(&url).await.expect("the test database");
    }
    crossfed_store::Store::connect(&format!("sqlite:file:{label}-{id}?mode=memory&cache=shared"))
        .await
        .expect("an in-memory SQLite store")
}

/// The PostgreSQL server's maintenance database: `CROSSFED_TEST_POSTGRES_URL`, by default the
/// local server scripts/test starts.
pub fn postgres_admin_url() -> String {
    std::env::var("CROSSFED_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A new, empty PostgreSQL database `crossfed_hubtest_LABEL_RANDOM` (scripts/test drops these
/// afterwards), for tests that run several hub processes on one database; returns its URL.
pub async fn postgres_test_database(label: &str) -> String {
    assert!(
        !label.is_empty() && label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "database label {label:?}: use a-z, 0-9 and _"
    );
    create_database(&format!("crossfed_hubtest_{label}_{}", crossfed_store::new_id())).await
}

/// A test's own PostgreSQL database ([`postgres_test_database`]), dropped when the test ends,
/// failed or not.
pub struct TestDatabase(pub String);

impl TestDatabase {
    /// A new database labelled `label`, on a runtime of its own (for tests without one).
    pub fn create(label: &str) -> TestDatabase {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        TestDatabase(runtime.block_on(postgres_test_database(label)))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let url = self.0.clone();
        // A runtime of its own: this may run while the test's runtime unwinds.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(drop_postgres_database(&url));
        })
        .join();
    }
}

/// Drops a database [`postgres_test_database`] created, closing whatever is still connected.
pub async fn drop_postgres_database(url: &str) {
    let (_, name) = url.rsplit_once('/').expect("a database URL ends in /DATABASE");
    let admin = postgres_admin().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("dropping the test database {name}: {e}"));
    admin.close().await;
}

async fn postgres_admin() -> sqlx::AnyPool {
    let admin_url = postgres_admin_url();
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is not reachable at {admin_url}: {e} (scripts/test starts it)"))
}

async fn create_database(database: &str) -> String {
    let admin = postgres_admin().await;
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("creating the test database {database}: {e}"));
    admin.close().await;
    let admin_url = postgres_admin_url();
    let (base, _) = admin_url.rsplit_once('/').expect("CROSSFED_TEST_POSTGRES_URL ends in /DATABASE");
    format!("{base}/{database}")
}
