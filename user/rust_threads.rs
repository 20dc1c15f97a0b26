// A Rust program, built by Debian's rustc for x86_64-unknown-linux-gnu (a
// PIE linked with glibc: Debian has no musl target for Rust): std::thread
// with join and scoped threads, Mutex and Condvar, mpsc channels, atomics,
// thread-locals, a panic in a thread that join reports (unwinding through
// libgcc_s), thread names (prctl), a file written and read back, and a
// child process (std::process::Command: clone with CLONE_VM|CLONE_VFORK).
//
// Prints "ok NAME" / "FAIL NAME: ..." and "rust_threads: N failed"; the
// same binary passes on Linux (tests/integration/rust.test.ts runs it there).
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

static FAILURES: AtomicUsize = AtomicUsize::new(0);

fn check(name: &str, ok: bool, got: String) {
    if ok {
        println!("ok {}", name);
    } else {
        println!("FAIL {}: got {}", name, got);
        FAILURES.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static LOCAL: Cell<u64> = Cell::new(7);
}

fn main() {
    // Join: each thread's value comes back.
    let handles: Vec<_> = (0..64u64).map(|i| thread::spawn(move || i * i)).collect();
    let sum: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    check("spawn-join-64", sum == (0..64u64).map(|i| i * i).sum::<u64>(), sum.to_string());

    // A contended mutex.
    let counter = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for _ in 0..5000 {
                    *counter.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let total = *counter.lock().unwrap();
    check("mutex-count", total == 40000, total.to_string());

    // A condition variable: the waiter sees the flag its notifier set.
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let other = Arc::clone(&pair);
    let notifier = thread::spawn(move || {
        let (lock, ready) = &*other;
        *lock.lock().unwrap() = true;
        ready.notify_one();
    });
    let (lock, ready) = &*pair;
    let mut flag = lock.lock().unwrap();
    while !*flag {
        flag = ready.wait(flag).unwrap();
    }
    drop(flag);
    notifier.join().unwrap();
    check("condvar", true, String::new());

    // Channels from many senders.
    let (tx, rx) = mpsc::channel();
    for id in 0..10u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            for n in 0..100u64 {
                tx.send(id * 1000 + n).unwrap();
            }
        });
    }
    drop(tx);
    let received: Vec<u64> = rx.iter().collect();
    check("channel-many-senders", received.len() == 1000, received.len().to_string());

    // Scoped threads borrowing the stack.
    let data = vec![1u64; 1000];
    let atomic = AtomicUsize::new(0);
    thread::scope(|s| {
        for chunk in data.chunks(100) {
            let atomic = &atomic;
            s.spawn(move || {
                atomic.fetch_add(chunk.iter().sum::<u64>() as usize, Ordering::SeqCst);
            });
        }
    });
    check("scoped-threads", atomic.load(Ordering::SeqCst) == 1000, atomic.load(Ordering::SeqCst).to_string());

    // Thread-locals are each thread's own.
    LOCAL.with(|l| l.set(99));
    let theirs = thread::spawn(|| LOCAL.with(|l| l.get())).join().unwrap();
    check("thread-local", theirs == 7 && LOCAL.with(|l| l.get()) == 99, theirs.to_string());

    // A panic in a thread unwinds it and reaches join as an error.
    std::panic::set_hook(Box::new(|_| {}));
    let result = thread::spawn(|| {
        panic!("expected");
    })
    .join();
    let _ = std::panic::take_hook();
    check("panic-reaches-join", result.is_err(), format!("{:?}", result.is_err()));

    // A named thread (prctl PR_SET_NAME) shows its name.
    let name = thread::Builder::new()
        .name("worker-7".into())
        .spawn(|| thread::current().name().map(|s| s.to_string()))
        .unwrap()
        .join()
        .unwrap();
    check("thread-name", name.as_deref() == Some("worker-7"), format!("{:?}", name));

    // Files.
    let path = std::env::temp_dir().join(format!("rust-threads-{}", std::process::id()));
    let written = std::fs::write(&path, b"hello from rust\n").is_ok();
    let back = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    check("file-round-trip", written && back == "hello from rust\n", back);

    // A child process.
    let status = std::process::Command::new("/bin/sh").arg("-c").arg("exit 4").status();
    let code = status.as_ref().ok().and_then(|s| s.code());
    check("child-process", code == Some(4), format!("{:?}", code));

    let failed = FAILURES.load(Ordering::SeqCst);
    println!("rust_threads: {} failed", failed);
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
