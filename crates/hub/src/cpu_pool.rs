//! Bounded pools of threads for the CPU-heavy steps, so they never hold an async worker: RSA
//! signing (a fifth of a millisecond per signature) and argon2 password hashing (tens of
//! milliseconds and 19 MiB each). Each pool has a fixed number of threads; work waits in its
//! queue, so a burst of sign-ins cannot start more hashes at once than there are hashing
//! threads (which also bounds their memory), and a signature never waits behind a hash.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Instant;

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
    unfinished: Arc<Unfinished>,
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
        CpuPool { name, queue: Mutex::new(sender), unfinished: Arc::new(Unfinished::default()) }
    }

    /// Runs `job` on one of the pool's threads and waits for its result without blocking.
    pub async fn run<T, F>(&self, job: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.run_answering_later(move |reply| {
            // The waiting side may have gone (a closed connection): nothing to deliver then.
            let _ = reply.send(job());
        })
        .await
    }

    /// Runs `job` on one of the pool's threads and waits, without blocking, for the answer `job`
    /// sends through the sender it is given. `job` may hand that sender on (to the audit writer,
    /// say), so that its caller is woken once, when everything it waits for is done; the job
    /// itself counts as finished when it returns.
    pub async fn run_answering_later<T, F>(&self, job: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce(tokio::sync::oneshot::Sender<T>) + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let counted = Counted::new(&self.unfinished);
        let job: Job = Box::new(move || {
            job(reply);
            drop(counted);
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
    /// Returns once no job is waiting or running, or at `deadline`. Without jobs it returns at
    /// once; otherwise it sleeps and is woken once, by the last job finishing or by the deadline.
    pub fn wait_until_idle(&self, deadline: Instant) {
        self.unfinished.wait_until_none(deadline);
    }
}

/// Jobs handed to a pool and not finished yet, and whoever waits for there to be none.
#[derive(Default)]
struct Unfinished {
    count: AtomicUsize,
    waiters: AtomicUsize,
    lock: Mutex<()>,
    none_left: Condvar,
}

impl Unfinished {
    fn wait_until_none(&self, deadline: Instant) {
        if self.count.load(Ordering::SeqCst) == 0 {
            return;
        }
        // Counted as waiting before the count is read again under the lock: a job finishing
        // after that read sees the waiter and notifies under the same lock, so no wake is lost.
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let mut guard = match self.lock.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        while self.count.load(Ordering::SeqCst) > 0 {
            let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else { break };
            guard = match self.none_left.wait_timeout(guard, left) {
                Ok((g, _)) => g,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
    }

    fn finished_one(&self) {
        // Only the last job wakes a waiter, and only when there is one: a pool under load
        // finishes jobs without any system call here.
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 && self.waiters.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock();
            self.none_left.notify_all();
        }
    }
}

/// One job counted as unfinished until this is dropped: when the job has run, or when it is
/// dropped without running.
struct Counted(Arc<Unfinished>);

impl Counted {
    fn new(unfinished: &Arc<Unfinished>) -> Counted {
        unfinished.count.fetch_add(1, Ordering::SeqCst);
        Counted(unfinished.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.finished_one();
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

    #[tokio::test]
    async fn a_job_may_answer_after_it_returns_and_counts_as_finished_when_it_returns() {
        use std::time::Duration;
        let pool = Arc::new(CpuPool::new("later-test", 1));
        let (handed_on, answer_later) = std::sync::mpsc::channel::<tokio::sync::oneshot::Sender<&'static str>>();
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(
                async move { pool.run_answering_later(move |reply| handed_on.send(reply).unwrap_or(())).await },
            )
        };
        // The job has returned once its sender arrives here; the pool is then idle, unanswered.
        let reply = tokio::task::spawn_blocking(move || answer_later.recv()).await.unwrap().unwrap();
        pool.wait_until_idle(Instant::now() + Duration::from_secs(5));
        assert_eq!(pool.unfinished.count.load(Ordering::SeqCst), 0);
        assert!(!waiting.is_finished());
        reply.send("answered by whoever held the sender").unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), "answered by whoever held the sender");
    }

    #[tokio::test]
    async fn waiting_for_idle_ends_when_the_last_job_finishes_or_at_the_deadline() {
        use std::time::Duration;
        let pool = Arc::new(CpuPool::new("idle-test", 1));
        let started = Instant::now();
        pool.wait_until_idle(started + Duration::from_secs(5));
        assert!(started.elapsed() < Duration::from_millis(50), "an idle pool is not waited for");

        // Two jobs of 100 ms each on one thread: the wait ends when the second one ends.
        let jobs: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.run(|| std::thread::sleep(Duration::from_millis(100))).await })
            })
            .collect();
        while pool.unfinished.count.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        let waiting = Instant::now();
        let waiter = {
            let pool = pool.clone();
            std::thread::spawn(move || pool.wait_until_idle(waiting + Duration::from_secs(5)))
        };
        assert!(waiter.join().is_ok());
        let waited = waiting.elapsed();
        assert!(waited >= Duration::from_millis(100) && waited < Duration::from_secs(2), "{waited:?}");
        assert_eq!(pool.unfinished.count.load(Ordering::SeqCst), 0);
        for job in jobs {
            assert!(job.await.is_ok());
        }

        // A job longer than the deadline: the wait ends at the deadline.
        let long = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|| std::thread::sleep(Duration::from_millis(400))).await })
        };
        while pool.unfinished.count.load(Ordering::SeqCst) < 1 {
            tokio::task::yield_now().await;
        }
        let waiting = Instant::now();
        pool.wait_until_idle(waiting + Duration::from_millis(50));
        let waited = waiting.elapsed();
        assert!(waited >= Duration::from_millis(50) && waited < Duration::from_millis(350), "{waited:?}");
        assert!(long.await.is_ok());
    }
}
