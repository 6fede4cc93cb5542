//! Bounded pools of threads for the CPU-heavy steps, so they never hold an async worker: RSA
//! signing (a fifth of a millisecond per signature) and argon2 password hashing (tens of
//! milliseconds and 19 MiB each). Each pool has a fixed number of threads; work waits in its
//! queue, so a burst of sign-ins cannot start more hashes at once than there are hashing
//! threads (which also bounds their memory), and a signature never waits behind a hash.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use thiserror::Error;

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Debug, Error)]
pub enum PoolError {
    #[error("the {0} threads are gone")]
    Gone(&'static str),
}

/// A fixed set of threads taking jobs from one queue.
pub struct CpuPool {
    name: &'static str,
    queue: Mutex<Sender<Job>>,
    /// Jobs handed to the pool and not finished yet.
    unfinished: Arc<AtomicUsize>,
}

impl std::fmt::Debug for CpuPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuPool").field("name", &self.name).finish()
    }
}

impl CpuPool {
    /// Starts `threads` threads named `crossfed-NAME-I`. A thread that cannot start leaves the
    /// pool smaller; with none at all, jobs are refused with [`PoolError::Gone`].
    pub fn new(name: &'static str, threads: usize) -> CpuPool {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            let started =
                std::thread::Builder::new().name(format!("crossfed-{name}-{i}")).spawn(move || work(&receiver));
            if let Err(e) = started {
                tracing::warn!("starting a {name} thread: {e}");
            }
        }
        CpuPool { name, queue: Mutex::new(sender), unfinished: Arc::new(AtomicUsize::new(0)) }
    }

    /// Runs `job` on one of the pool's threads and waits for its result without blocking.
    pub async fn run<T, F>(&self, job: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let counted = Unfinished::count(&self.unfinished);
        let job: Job = Box::new(move || {
            let result = job();
            drop(counted);
            // The waiting side may have gone (a closed connection): nothing to deliver then.
            let _ = reply.send(result);
        });
        let sent = match self.queue.lock() {
            Ok(queue) => queue.send(job).is_ok(),
            Err(poisoned) => poisoned.into_inner().send(job).is_ok(),
        };
        if !sent {
            return Err(PoolError::Gone(self.name));
        }
        answer.await.map_err(|_| PoolError::Gone(self.name))
    }
}

impl CpuPool {
    /// Jobs waiting or running.
    pub fn unfinished(&self) -> usize {
        self.unfinished.load(Ordering::SeqCst)
    }
}

/// One job counted as unfinished until this is dropped: when the job has run, or when it is
/// dropped without running.
struct Unfinished(Arc<AtomicUsize>);

impl Unfinished {
    fn count(counter: &Arc<AtomicUsize>) -> Unfinished {
        counter.fetch_add(1, Ordering::SeqCst);
        Unfinished(counter.clone())
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while taking the next job.
        let next = match receiver.lock() {
            Ok(r) => r.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// How many async worker threads a process serving the hub should run: half the cores (at least
/// one). A launch spends about two thirds of its CPU in the RSA signature, on the signing
/// threads, so the async side needs the smaller share; and every runnable thread beyond the
/// cores costs thread switches.
pub fn async_workers() -> usize {
    (cores() / 2).max(1)
}

/// The process's signing threads: one per core, so signatures can use the whole machine when
/// nothing else needs it. Measured on 2 cores with 16 virtual users launching (signing threads +
/// async workers): 2 + 1 gave 5540 launches/s and 0.30 ms of hub CPU per launch, 1 + 1 gave
/// 4080/s and 0.36 ms, 2 + 2 gave 5390/s and 0.31 ms, 1 + 2 (the earlier choice) 4060/s and
/// 0.37 ms; with 4 virtual users 2 + 1 gave 4560/s and 1 + 1 3850/s.
pub fn signing() -> &'static CpuPool {
    static POOL: OnceLock<CpuPool> = OnceLock::new();
    POOL.get_or_init(|| CpuPool::new("sign", cores()))
}

/// The process's password-hashing threads: half the cores (at least one), so hashing leaves
/// room for everything else and at most that many 19 MiB hashes are in memory.
pub fn hashing() -> &'static CpuPool {
    static POOL: OnceLock<CpuPool> = OnceLock::new();
    POOL.get_or_init(|| CpuPool::new("hash", cores().div_ceil(2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_the_pool_threads_at_most_as_many_at_once_as_threads() {
        let pool = Arc::new(CpuPool::new("test", 2));
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut waits = Vec::new();
        for _ in 0..8 {
            let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
            waits.push(tokio::spawn(async move {
                pool.run(move || {
                    use std::sync::atomic::Ordering::SeqCst;
                    let now = running.fetch_add(1, SeqCst) + 1;
                    most.fetch_max(now, SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, SeqCst);
                    std::thread::current().name().map(str::to_string)
                })
                .await
            }));
        }
        for wait in waits {
            let name = wait.await.ok().and_then(Result::ok).flatten();
            assert!(name.is_some_and(|n| n.starts_with("crossfed-test-")));
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
