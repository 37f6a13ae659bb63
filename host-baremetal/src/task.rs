//! Kernel tasks: each guest process runs on a kernel stack of its own, and
//! the tasks take turns on the one CPU, cooperatively. A task gives the CPU
//! away only at points it chooses: the end of a guest instruction budget
//! (`HostOs::yield_now`, which the core calls there) and every blocking
//! wait ([`crate::clock::wait_until`]), so no lock is ever held across a
//! switch and interrupts stay off as before. A task whose process is
//! stopped (`SIGSTOP`) is passed over until it is continued or killed.
//!
//! The boot task (the kernel's own stack) runs the first guest process;
//! [`spawn`] starts another task with a 1 MiB stack from the heap. A task
//! ends with [`exit`]; its stack is freed by the next task that runs (a
//! task cannot free the stack it stands on).
//!
//! Each task names the process it runs ([`current`]): the host's
//! per-process state (descriptors, signals, ids) is found through it.
//! `vfork` runs the child on the parent's task with the child's process
//! made current for that time ([`set_current`]).

use crate::procs::Proc;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

const STACK_SIZE: usize = 1 << 20;

struct Task {
    /// Saved stack pointer while not running.
    rsp: u64,
    /// The stack it runs on (`None` for the boot task: the bootloader's),
    /// freed with the task.
    _stack: Option<Box<[u8]>>,
    proc: Arc<Proc>,
    entry: Option<Box<dyn FnOnce() + Send>>,
    done: bool,
}

struct Sched {
    /// Boxed so that a task's `rsp`, whose address a switch keeps, stays
    /// put while the table grows.
    #[allow(clippy::vec_box)]
    tasks: Vec<Box<Task>>,
    current: usize,
    /// `crate::clock::cpu_ns` when the running task got the CPU.
    since: u64,
    /// `crate::memory::FAULTS` then.
    faults_since: u64,
}

static SCHED: spin::Mutex<Option<Sched>> = spin::Mutex::new(None);

/// Consecutive looks by waiting tasks that found nothing to do: once
/// every task has looked, the CPU halts until the next timer tick.
static IDLE: AtomicUsize = AtomicUsize::new(0);

core::arch::global_asm!(
    ".global pvm_task_switch",
    "pvm_task_switch:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "stmxcsr [rsp]",
    "fnstcw [rsp + 4]",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "ldmxcsr [rsp]",
    "fldcw [rsp + 4]",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".global pvm_task_entry",
    "pvm_task_entry:",
    "call {start}",
    "ud2",
    start = sym task_start,
);

unsafe extern "C" {
    /// Save the callee-saved registers, MXCSR and the x87 control word on
    /// this stack, store the stack pointer at `*save`, switch to `next`
    /// and restore the same from there.
    fn pvm_task_switch(save: *mut u64, next: u64);
    fn pvm_task_entry();
}

/// Make the boot task the first task, running `proc`.
pub fn init(proc: Arc<Proc>) {
    *SCHED.lock() = Some(Sched {
        tasks: alloc::vec![Box::new(Task {
            rsp: 0,
            _stack: None,
            proc,
            entry: None,
            done: false,
        })],
        current: 0,
        since: crate::clock::cpu_ns(),
        faults_since: faults(),
    });
}

/// The next job of a batch boot, on the boot task (the running one):
/// every other task of the last job is dropped without running again
/// (the memory its process held stays taken), and the boot task runs
/// `proc`.
pub fn reset(proc: Arc<Proc>) {
    let dropped: Vec<Box<Task>> = {
        let mut guard = SCHED.lock();
        let s = guard.as_mut().expect("tasks initialised");
        let cur = s.current;
        let mut me = s.tasks.remove(cur);
        me.proc = proc;
        let others = core::mem::take(&mut s.tasks);
        s.tasks.push(me);
        s.current = 0;
        s.since = crate::clock::cpu_ns();
        s.faults_since = faults();
        others
    };
    // Their stacks hold the last job's frames, which never run again:
    // forget them rather than run their destructors.
    for t in dropped {
        core::mem::forget(t);
    }
    IDLE.store(0, Ordering::Relaxed);
}

/// The process the running task works for.
pub fn current() -> Arc<Proc> {
    let s = SCHED.lock();
    let s = s.as_ref().expect("tasks initialised");
    s.tasks[s.current].proc.clone()
}

/// Make `proc` the running task's process (for `vfork`'s child and while
/// a forked child is built); returns the previous one.
pub fn set_current(proc: Arc<Proc>) -> Arc<Proc> {
    let mut s = SCHED.lock();
    let s = s.as_mut().expect("tasks initialised");
    let cur = s.current;
    core::mem::replace(&mut s.tasks[cur].proc, proc)
}

/// CPU time the running task has used since it got the CPU (ns).
pub fn running_ns() -> u64 {
    let s = SCHED.lock();
    s.as_ref()
        .map_or(0, |s| crate::clock::cpu_ns().saturating_sub(s.since))
}

/// Page faults the running task has taken since it got the CPU.
pub fn running_faults() -> u64 {
    let s = SCHED.lock();
    s.as_ref()
        .map_or(0, |s| faults().saturating_sub(s.faults_since))
}

fn faults() -> u64 {
    crate::memory::FAULTS.load(Ordering::Relaxed)
}

/// Start `f` on a new task for `proc`; it runs at its turn.
pub fn spawn(proc: Arc<Proc>, f: Box<dyn FnOnce() + Send>) {
    let mut stack = alloc::vec![0u8; STACK_SIZE].into_boxed_slice();
    // A big allocation is backed on first touch, but a fault on the stack
    // it happens on cannot be handled: back it all now.
    // Out of frames, it fails as the allocation itself would have.
    if crate::memory::back_now(stack.as_ptr(), STACK_SIZE).is_err() {
        alloc::alloc::handle_alloc_error(core::alloc::Layout::new::<[u8; STACK_SIZE]>());
    }
    let top = (stack.as_mut_ptr() as u64 + STACK_SIZE as u64) & !15;
    // What `pvm_task_switch` pops: MXCSR (all exceptions masked) and the
    // x87 control word at their defaults, six zero registers, then the
    // return into `pvm_task_entry`, leaving the stack 16-byte aligned.
    let rsp = top - 64;
    // SAFETY: [rsp, top) lies inside the new stack, which nothing else
    // uses yet; the writes are aligned.
    unsafe {
        let p = rsp as *mut u64;
        p.write(0x1f80 | (0x037f << 32));
        for i in 1..7 {
            p.add(i).write(0);
        }
        p.add(7).write(pvm_task_entry as *const () as u64);
    }
    let mut s = SCHED.lock();
    s.as_mut()
        .expect("tasks initialised")
        .tasks
        .push(Box::new(Task {
            rsp,
            _stack: Some(stack),
            proc,
            entry: Some(f),
            done: false,
        }));
}

extern "C" fn task_start() -> ! {
    reap();
    let f = {
        let mut s = SCHED.lock();
        let s = s.as_mut().expect("tasks initialised");
        let cur = s.current;
        s.tasks[cur].entry.take()
    };
    if let Some(f) = f {
        f();
    }
    exit()
}

/// Can task `t` run? Not when done, nor while its process is stopped
/// (unless a `SIGKILL` waits for it).
fn runnable(t: &Task) -> bool {
    !t.done && !t.proc.stopped()
}

/// Switch from the running task to the next runnable one (round robin),
/// if any; `finished` marks the running task done first. Returns false
/// when no other task could run.
fn switch(finished: bool) -> bool {
    let (save, next) = {
        let mut guard = SCHED.lock();
        let Some(s) = guard.as_mut() else {
            return false;
        };
        let n = s.tasks.len();
        let cur = s.current;
        if finished {
            s.tasks[cur].done = true;
        }
        let Some(j) = (1..n)
            .map(|k| (cur + k) % n)
            .find(|&j| runnable(&s.tasks[j]))
        else {
            return false;
        };
        let now = crate::clock::cpu_ns();
        s.tasks[cur].proc.add_cpu(now.saturating_sub(s.since));
        s.since = now;
        let f = faults();
        s.tasks[cur].proc.add_faults(f.saturating_sub(s.faults_since));
        s.faults_since = f;
        s.current = j;
        let save = &mut s.tasks[cur].rsp as *mut u64;
        (save, s.tasks[j].rsp)
    };
    // SAFETY: `save` points into a boxed task that stays in the table
    // until it is done and another task has freed it (below), which is
    // after this switch saved its stack pointer; `next` is the saved
    // stack pointer of a live task, or a new task's prepared stack.
    unsafe { pvm_task_switch(save, next) };
    reap();
    true
}

/// Free the tasks that are done (never the running one).
fn reap() {
    let dead: Vec<Box<Task>> = {
        let mut guard = SCHED.lock();
        let s = guard.as_mut().expect("tasks initialised");
        let cur: *const Task = &*s.tasks[s.current];
        let mut dead = Vec::new();
        let mut i = 0;
        while i < s.tasks.len() {
            if s.tasks[i].done && !core::ptr::eq(&*s.tasks[i], cur) {
                dead.push(s.tasks.remove(i));
            } else {
                i += 1;
            }
        }
        s.current = s
            .tasks
            .iter()
            .position(|t| core::ptr::eq(&**t, cur))
            .expect("the running task is in the table");
        dead
    };
    drop(dead);
}

/// Let the other tasks run (the end of a guest instruction budget).
pub fn yield_now() {
    IDLE.store(0, Ordering::Relaxed);
    switch(false);
}

/// In a wait that found nothing to do: let another task look, or, once
/// every task has looked in vain (or none other can run), return false so
/// the caller halts until the next tick.
pub fn idle_turn() -> bool {
    let n = SCHED.lock().as_ref().map_or(1, |s| s.tasks.len());
    if IDLE.fetch_add(1, Ordering::Relaxed) >= n {
        IDLE.store(0, Ordering::Relaxed);
        return false;
    }
    switch(false)
}

/// A wait ended: the task has work again.
pub fn busy() {
    IDLE.store(0, Ordering::Relaxed);
}

/// End the running task for good.
pub fn exit() -> ! {
    switch(true);
    // No other task can run: every process left is stopped (or there is
    // none). Nothing could ever continue them.
    crate::klog!("no process left to run");
    crate::exit::exit_guest(vm_core::launch::EXIT_INTERNAL)
}
