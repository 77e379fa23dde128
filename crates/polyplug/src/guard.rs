//! Read-side critical sections for guarded calls, and the writer's wait for them.
//!
//! A guarded call marks its thread as *inside a call* for the duration of the call; an unload
//! or reload first unpublishes the old provider, then [`synchronize`]s: it waits until every
//! thread that might still see the old provider has left its critical section. Only then are
//! the old interface and library released.
//!
//! The reader's cost is what makes this path worth having: entering is one thread-local load,
//! a load and a store of a word only this thread writes, and (on Linux) no fence at all;
//! leaving is the same. The fence the
//! reader would need (its store must be visible before it reads the provider) is supplied by
//! the writer instead, with the `membarrier(2)` system call, which runs a full barrier on
//! every thread of the process (the "asymmetric fence" technique of userspace RCU). Where
//! `membarrier` is missing (other systems, or valgrind, which does not emulate it) readers fall
//! back to a `SeqCst` fence, so the protocol is correct either way.
//!
//! Every thread that ever made a guarded call owns one [`Reader`] record on a global,
//! append-only list; records are recycled when threads exit. A record's one word holds the
//! thread's nesting depth (a plugin calling a plugin nests) in its low half and the number of
//! outermost calls it has left in its high half: a writer that saw a thread inside waits until
//! that count moves.

use std::cell::Cell;
use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One thread's read-side state. Aligned to two cache lines so that threads' records never
/// share one (the adjacent-line prefetcher pairs lines).
#[repr(align(128))]
struct Reader {
    /// Nesting depth (low 32 bits) and outermost calls left (high 32 bits, wrapping); written
    /// only by the owning thread. See [`depth`] and [`left`].
    word: AtomicU64,
    /// Owned by a live thread.
    in_use: AtomicBool,
    /// Next record on the global list (never changes once published).
    next: *const Reader,
}

// SAFETY: `next` points to another leaked, immutable-link record; the rest is atomics.
unsafe impl Sync for Reader {}

/// Head of the append-only list of every reader record ever made.
static READERS: AtomicPtr<Reader> = AtomicPtr::new(std::ptr::null_mut());

/// Whether `membarrier` supplies the readers' fence. Set once, before any reader relies on it.
static ASYMMETRIC: AtomicBool = AtomicBool::new(false);

/// One outermost call left, in a record's word.
const LEFT_ONE: u64 = 1 << 32;

/// The nesting depth in a record's word: non-zero while the thread is inside a guarded call.
fn depth(word: u64) -> u32 {
    word as u32
}

/// How many outermost calls the thread has left (wrapping), from a record's word.
fn left(word: u64) -> u32 {
    (word >> 32) as u32
}

/// The word after leaving one level: when the outermost call closes, the depth is zero and
/// the count of calls left moves on. At depth zero (a section the thread's exit already
/// closed) nothing changes.
fn after_leave(word: u64) -> u64 {
    match depth(word) {
        0 => word,
        1 => (word - 1).wrapping_add(LEFT_ONE),
        _ => word - 1,
    }
}

thread_local! {
    /// This thread's record (null until its first guarded call). A plain `const` cell with no
    /// destructor, so the hot path is one TLS access without a lazy check.
    static RECORD: Cell<*const Reader> = const { Cell::new(std::ptr::null()) };
    /// Gives the record back when the thread exits (registered on first use).
    static RELEASE: Releaser = const { Releaser };
}

struct Releaser;

impl Drop for Releaser {
    fn drop(&mut self) {
        let r = RECORD.with(|c| c.replace(std::ptr::null()));
        // SAFETY: records are leaked, so the pointer stays valid forever.
        if let Some(r) = unsafe { r.as_ref() } {
            // A thread can exit inside a section (a C host's `pp_guard_enter` without its
            // `pp_guard_exit`). It runs nothing any more, so close the section: left open, the
            // record would stall every writer forever. A guarded call from a later destructor
            // of this thread starts afresh, with a record of its own.
            let word = r.word.load(Ordering::Relaxed);
            if depth(word) == 0 {
                r.in_use.store(false, Ordering::Release);
            } else {
                // Closed, and never handed to another thread: a section still open in a
                // later destructor leaves this record (as a no-op), not someone else's.
                r.word.store(
                    (word & !u64::from(u32::MAX)).wrapping_add(LEFT_ONE),
                    Ordering::Release,
                );
            }
        }
    }
}

/// This thread's record, taking a free one or appending a new one on first use.
#[cold]
fn register() -> *const Reader {
    init_membarrier();
    let mut p = READERS.load(Ordering::Acquire) as *const Reader;
    // SAFETY: every record on the list is leaked and never freed.
    while let Some(r) = unsafe { p.as_ref() } {
        if r.in_use
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return adopt(r);
        }
        p = r.next;
    }
    let fresh = Box::leak(Box::new(Reader {
        word: AtomicU64::new(0),
        in_use: AtomicBool::new(true),
        next: std::ptr::null(),
    }));
    let mut head = READERS.load(Ordering::Acquire);
    loop {
        fresh.next = head;
        match READERS.compare_exchange_weak(
            head,
            fresh as *mut Reader,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return adopt(fresh),
            Err(h) => head = h,
        }
    }
}

fn adopt(r: &'static Reader) -> *const Reader {
    // If the thread is already tearing down its TLS the record simply stays in use (leaked);
    // the list stays bounded by the number of threads alive at once plus such stragglers.
    let _ = RELEASE.try_with(|_| ());
    let _ = RECORD.try_with(|c| c.set(r));
    r
}

/// Marks this thread as inside a guarded call until the returned token drops.
#[inline]
pub(crate) fn enter() -> ReadSection {
    let mut r = RECORD.with(Cell::get);
    if r.is_null() {
        r = register();
    }
    // SAFETY: records are leaked; this thread owns `r`.
    let r = unsafe { &*r };
    // Only this thread writes the word, so a relaxed read of it is exact.
    let word = r.word.load(Ordering::Relaxed);
    r.word.store(word + 1, Ordering::Relaxed);
    if depth(word) == 0 {
        if ASYMMETRIC.load(Ordering::Relaxed) {
            // The writer's membarrier orders this store before our later loads.
            std::sync::atomic::compiler_fence(Ordering::SeqCst);
        } else {
            fence(Ordering::SeqCst);
        }
    }
    ReadSection {
        record: r,
        _not_send: std::marker::PhantomData,
    }
}

/// An open read-side critical section (see [`enter`]). Not `Send`: it belongs to its thread.
pub(crate) struct ReadSection {
    record: &'static Reader,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for ReadSection {
    #[inline]
    fn drop(&mut self) {
        leave(self.record);
    }
}

/// [`enter`] for C callers, who pair it with [`exit_raw`] themselves.
pub(crate) fn enter_raw() {
    std::mem::forget(enter());
}

/// Closes a section opened by [`enter_raw`]; an unpaired exit is ignored rather than allowed to
/// corrupt the depth count.
pub(crate) fn exit_raw() {
    // SAFETY: records are leaked; this thread owns its own.
    if let Some(r) = unsafe { RECORD.with(Cell::get).as_ref() } {
        if depth(r.word.load(Ordering::Relaxed)) != 0 {
            leave(r);
        }
    }
}

/// Leaves one level of this thread's record `r`, which is inside a section.
#[inline]
fn leave(r: &Reader) {
    let word = r.word.load(Ordering::Relaxed);
    // Release: everything the call did happens-before the writer's acquire load.
    r.word.store(after_leave(word), Ordering::Release);
}

/// True while this thread is inside a guarded call (lifecycle changes are refused there: they
/// would wait for the call that is making them).
pub(crate) fn inside_call() -> bool {
    // SAFETY: records are leaked; this thread owns its own.
    unsafe { RECORD.with(Cell::get).as_ref() }
        .is_some_and(|r| depth(r.word.load(Ordering::Relaxed)) != 0)
}

/// Waits until every guarded call that may have seen state unpublished before this call has
/// returned. The caller must have unpublished first, and must not be inside a call itself.
pub(crate) fn synchronize() {
    heavy_barrier();
    let mut waiting = Vec::new();
    let mut p = READERS.load(Ordering::Acquire) as *const Reader;
    // SAFETY: every record on the list is leaked and never freed.
    while let Some(r) = unsafe { p.as_ref() } {
        let word = r.word.load(Ordering::Acquire);
        if depth(word) != 0 {
            waiting.push((r, left(word)));
        }
        p = r.next;
    }
    let start = Instant::now();
    let mut warned = false;
    for (r, seen) in waiting {
        let mut spins = 0u32;
        // Once the thread has left its outermost call, the call that was open has closed (a
        // new one started after our unpublish and cannot see the old state).
        while left(r.word.load(Ordering::Acquire)) == seen {
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else if spins < 128 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
            if !warned && start.elapsed() > Duration::from_secs(2) {
                warned = true;
                log::warn!("polyplug: unload/reload is waiting for a guarded call that has run for over 2 s");
            }
        }
    }
}

/// A full memory barrier on every thread of the process, or just on this one when readers
/// fence for themselves.
fn heavy_barrier() {
    if ASYMMETRIC.load(Ordering::Acquire) {
        if membarrier::expedited() {
            return;
        }
        // Cannot happen once registration succeeded; fail safe by making readers fence from now
        // on, then wait out a scheduling round so none is mid-section with the old rule.
        ASYMMETRIC.store(false, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(10));
    }
    fence(Ordering::SeqCst);
}

fn init_membarrier() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var_os("POLYPLUG_NO_MEMBARRIER").is_none() && membarrier::register() {
            ASYMMETRIC.store(true, Ordering::SeqCst);
        }
    });
}

/// Whether guarded calls rely on `membarrier(2)` (the fence-free reader) in this process, or
/// on a full fence per call (other systems, valgrind, or `POLYPLUG_NO_MEMBARRIER` set).
pub fn uses_membarrier() -> bool {
    init_membarrier();
    ASYMMETRIC.load(Ordering::Acquire)
}

#[cfg(target_os = "linux")]
mod membarrier {
    const CMD_QUERY: libc::c_long = 0;
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    fn call(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: membarrier takes two integer arguments and touches no memory of ours.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long) }
    }

    /// Registers the process for expedited barriers; false when the kernel cannot do them.
    pub(super) fn register() -> bool {
        let supported = call(CMD_QUERY);
        supported >= 0
            && supported & CMD_PRIVATE_EXPEDITED != 0
            && call(CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    }

    pub(super) fn expedited() -> bool {
        call(CMD_PRIVATE_EXPEDITED) == 0
    }
}

#[cfg(not(target_os = "linux"))]
mod membarrier {
    pub(super) fn register() -> bool {
        false
    }
    pub(super) fn expedited() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;
    use std::sync::Arc;

    #[test]
    fn nesting_counts_depth() {
        assert!(!inside_call());
        let a = enter();
        let b = enter();
        assert!(inside_call());
        drop(b);
        assert!(inside_call());
        drop(a);
        assert!(!inside_call());
    }

    #[test]
    fn synchronize_waits_for_open_sections() {
        let _ = uses_membarrier();
        let state = Arc::new(AtomicU32::new(0));
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let s = Arc::clone(&state);
        let t = std::thread::spawn(move || {
            let _section = enter();
            entered_tx.send(()).expect("send");
            go_rx.recv().expect("recv");
            // Still inside: the writer must not have finished yet.
            s.store(1, Ordering::SeqCst);
        });
        entered_rx.recv().expect("entered");
        let writer = {
            let s = Arc::clone(&state);
            std::thread::spawn(move || {
                synchronize();
                s.load(Ordering::SeqCst)
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        assert!(!writer.is_finished(), "synchronize returned during a call");
        go_tx.send(()).expect("go");
        assert_eq!(writer.join().expect("writer"), 1);
        t.join().expect("reader");
    }

    #[test]
    fn the_word_counts_depth_and_outermost_exits() {
        let w = 5 * LEFT_ONE;
        assert_eq!((depth(w), left(w)), (0, 5));
        assert_eq!(
            after_leave(w + 1),
            6 * LEFT_ONE,
            "the outermost exit moves `left`"
        );
        assert_eq!(after_leave(w + 3), w + 2, "an inner exit only counts depth");
        assert_eq!(
            after_leave(w),
            w,
            "leaving a closed section changes nothing"
        );
        let top = u64::from(u32::MAX) << 32 | 1;
        assert_eq!(after_leave(top), 0, "`left` wraps");
    }

    #[test]
    fn synchronize_waits_for_the_outermost_section() {
        let _ = uses_membarrier();
        let (inner_closed_tx, inner_closed_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let outer = enter();
            drop(enter());
            inner_closed_tx.send(()).expect("send");
            go_rx.recv().expect("recv");
            drop(outer);
        });
        inner_closed_rx.recv().expect("inner closed");
        let writer = std::thread::spawn(synchronize);
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            !writer.is_finished(),
            "synchronize returned while the outer section was open"
        );
        go_tx.send(()).expect("go");
        writer.join().expect("writer");
        t.join().expect("reader");
    }

    #[test]
    fn a_thread_that_exits_inside_a_section_does_not_stall_writers() {
        let _ = uses_membarrier();
        std::thread::spawn(enter_raw).join().expect("thread");
        // Returns: the exiting thread closed its section.
        synchronize();
        assert!(!inside_call());
    }

    #[test]
    fn records_are_recycled() {
        for _ in 0..4 {
            std::thread::spawn(|| drop(enter())).join().expect("thread");
        }
        let mut n = 0;
        let mut p = READERS.load(Ordering::Acquire) as *const Reader;
        // SAFETY: leaked records.
        while let Some(r) = unsafe { p.as_ref() } {
            n += 1;
            p = r.next;
        }
        // Sequential threads reuse one record (plus any the other tests' threads hold).
        assert!(n <= 8, "{n} records for sequential threads");
    }
}
