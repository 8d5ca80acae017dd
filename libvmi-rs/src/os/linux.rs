//! Linux: processes, threads and kernel modules, walked in guest memory with the offsets
//! LibVMI was configured with.
//!
//! | what | needs |
//! |---|---|
//! | processes (pid, name, page table) | LibVMI's `linux_tasks`, `linux_pid`, `linux_name`, `linux_mm`, `linux_pgd` and the `init_task` symbol |
//! | threads | additionally `linux_thread_group`: the offset of `task_struct.thread_group` (not a LibVMI key: give it as an extra key of a [`ConfigMap`](crate::ConfigMap), or with [`Linux::with_thread_group_offset`]) |
//! | modules | the `modules` symbol; the offsets of `struct module.list` and `.name` default to upstream's `module-list` example (list after `enum module_state`, name right after the list), overridable with the extras `linux_module_list` and `linux_module_name` |
//!
//! Every walk is bounded: at most [`MAX_TASKS`] tasks, [`MAX_THREADS`] threads and
//! [`MAX_MODULES`] modules; a list that loops back anywhere but its head, a NULL link, or a
//! name without a terminating NUL ends in [`Error::GuestData`]
//! instead of a hang or garbage. After an error an iterator is finished.
//!
//! ```no_run
//! # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
//! let linux = vmi.linux()?;
//! for process in linux.processes() {
//!     let p = process?;
//!     println!("[{:5}] {} (struct addr:{:x})", p.pid, p.name, p.task);
//! }
//! for module in linux.modules() {
//!     println!("{}", module?.name);
//! }
//! # Ok::<(), libvmi::Error>(())
//! ```

use crate::addr::{AccessContext, Dtb, Pid, Va};
use crate::error::{Error, Result};
use crate::instance::{OsType, Vmi};
use crate::process_memory::ProcessMemory;
use crate::Translation;
use std::collections::HashSet;

/// At most this many tasks are walked.
///
/// ```
/// use libvmi::os::linux::MAX_TASKS;
/// assert!(MAX_TASKS >= 32_768); // Linux's default pid_max fits
/// ```
pub const MAX_TASKS: usize = 1 << 16;
/// At most this many threads per process are walked.
///
/// ```
/// use libvmi::os::linux::{MAX_TASKS, MAX_THREADS};
/// assert!(MAX_THREADS <= MAX_TASKS); // threads are tasks too
/// ```
pub const MAX_THREADS: usize = 1 << 16;
/// At most this many kernel modules are walked.
///
/// ```
/// use libvmi::os::linux::MAX_MODULES;
/// assert_eq!(MAX_MODULES, 4096);
/// ```
pub const MAX_MODULES: usize = 1 << 12;
/// `TASK_COMM_LEN`: a task's name is at most 15 bytes and a NUL.
///
/// ```
/// use libvmi::os::linux::TASK_COMM_LEN;
/// assert!("swapper/0".len() < TASK_COMM_LEN);
/// assert_eq!(TASK_COMM_LEN - 1, 15); // room for the NUL
/// ```
pub const TASK_COMM_LEN: usize = 16;
/// `MODULE_NAME_LEN` on 64-bit kernels (64 minus a pointer).
///
/// ```
/// use libvmi::os::linux::MODULE_NAME_LEN;
/// assert_eq!(MODULE_NAME_LEN + core::mem::size_of::<u64>(), 64);
/// ```
pub const MODULE_NAME_LEN: usize = 56;

/// The structure offsets the walks use.
///
/// ```
/// use libvmi::os::linux::LinuxOffsets;
/// let off = LinuxOffsets { tasks: 0x8a8, mm: 0x8f8, pid: 0x9c0, name: 0xbc0, pgd: 0x48,
///     thread_group: None, module_list: 8, module_name: 24 };
/// assert_eq!(off.thread_group, None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LinuxOffsets {
    /// `task_struct.tasks` (`linux_tasks`).
    pub tasks: u64,
    /// `task_struct.mm` (`linux_mm`).
    pub mm: u64,
    /// `task_struct.pid` (`linux_pid`).
    pub pid: u64,
    /// `task_struct.comm` (`linux_name`).
    pub name: u64,
    /// `mm_struct.pgd` (`linux_pgd`).
    pub pgd: u64,
    /// `task_struct.thread_group` (extra `linux_thread_group`), for thread listing.
    pub thread_group: Option<u64>,
    /// `struct module.list` (extra `linux_module_list`; default: one pointer width).
    pub module_list: u64,
    /// `struct module.name` (extra `linux_module_name`; default: after the list).
    pub module_name: u64,
}

/// A process (thread-group leader).
///
/// ```no_run
/// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
/// let init = vmi.linux()?.process(libvmi::Pid(1))?;
/// assert_eq!(init.name, "systemd");
/// assert!(init.dtb.is_some()); // a user process has a page table
/// # Ok::<(), libvmi::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Process {
    /// Its pid (`task_struct.pid` of the leader = the tgid).
    pub pid: Pid,
    /// `task_struct.comm` (at most 15 bytes; lossily decoded as UTF-8).
    pub name: String,
    /// The address of its `task_struct`.
    pub task: Va,
    /// Its page table (from `mm->pgd`); `None` for kernel threads, which have no `mm`.
    pub dtb: Option<Dtb>,
}

/// A thread of a process.
///
/// ```no_run
/// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
/// let linux = vmi.linux()?.with_thread_group_offset(0x9d8);
/// let init = linux.process(libvmi::Pid(1))?;
/// for thread in linux.threads(&init)? {
///     let t = thread?;
///     println!("{} {} at {}", t.tid, t.name, t.task);
/// }
/// # Ok::<(), libvmi::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Thread {
    /// Its thread id (`task_struct.pid`).
    pub tid: Pid,
    /// `task_struct.comm`.
    pub name: String,
    /// The address of its `task_struct`.
    pub task: Va,
}

/// A loaded kernel module.
///
/// ```no_run
/// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
/// for module in vmi.linux()?.modules() {
///     let m = module?;
///     println!("{} at {}", m.name, m.address);
/// }
/// # Ok::<(), libvmi::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Module {
    /// `struct module.name`.
    pub name: String,
    /// The address of its `struct module`.
    pub address: Va,
}

/// The Linux view of an instance, from [`Vmi::linux`].
///
/// ```no_run
/// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
/// let linux = vmi.linux()?;
/// println!("{}", linux.banner()?);
/// println!("{} processes", linux.processes().count());
/// # Ok::<(), libvmi::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Linux<'a> {
    vmi: &'a Vmi,
    offsets: LinuxOffsets,
    width: u64,
}

impl Vmi {
    /// The Linux view: process, thread and module walks. Fails unless the OS is
    /// initialised as Linux with the task offsets configured.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let swapper = vmi.linux()?.process(libvmi::Pid::KERNEL)?;
    /// assert_eq!(swapper.name, "swapper/0");
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn linux(&self) -> Result<Linux<'_>> {
        if self.os_type() != OsType::Linux {
            return Err(Error::Unsupported {
                op: "Linux process and module walks",
                reason: "the guest OS is not initialised as Linux",
            });
        }
        let width = match self.address_width() {
            4 => 4,
            _ => 8,
        };
        let module_list = self.extra_offset("linux_module_list").unwrap_or(width);
        let offsets = LinuxOffsets {
            tasks: self.offset("linux_tasks")?,
            mm: self.offset("linux_mm")?,
            pid: self.offset("linux_pid")?,
            name: self.offset("linux_name")?,
            pgd: self.offset("linux_pgd")?,
            thread_group: self.extra_offset("linux_thread_group"),
            module_list,
            module_name: self
                .extra_offset("linux_module_name")
                .unwrap_or(module_list + 2 * width),
        };
        Ok(Linux {
            vmi: self,
            offsets,
            width,
        })
    }
}

impl<'a> Linux<'a> {
    /// The offsets in use.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let linux = vmi.linux()?;
    /// assert_eq!(linux.offsets().tasks, vmi.offset("linux_tasks")?);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn offsets(&self) -> &LinuxOffsets {
        &self.offsets
    }

    /// Use these offsets instead of the configured ones.
    ///
    /// ```no_run
    /// use libvmi::os::linux::LinuxOffsets;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let offsets = LinuxOffsets { thread_group: Some(0x9d8), ..*vmi.linux()?.offsets() };
    /// let linux = vmi.linux()?.with_offsets(offsets);
    /// assert_eq!(linux.offsets().thread_group, Some(0x9d8));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn with_offsets(mut self, offsets: LinuxOffsets) -> Linux<'a> {
        self.offsets = offsets;
        self
    }

    /// Use `offset` as `task_struct.thread_group` (enables [`Linux::threads`]).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let linux = vmi.linux()?.with_thread_group_offset(0x9d8);
    /// assert_eq!(linux.offsets().thread_group, Some(0x9d8));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn with_thread_group_offset(mut self, offset: u64) -> Linux<'a> {
        self.offsets.thread_group = Some(offset);
        self
    }

    /// Use these module offsets (`struct module.list` and `.name`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let linux = vmi.linux()?.with_module_offsets(0x8, 0x18);
    /// let names: Vec<String> = linux.modules().map(|m| m.map(|m| m.name)).collect::<Result<_, _>>()?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn with_module_offsets(mut self, list: u64, name: u64) -> Linux<'a> {
        self.offsets.module_list = list;
        self.offsets.module_name = name;
        self
    }

    /// The kernel's banner (`linux_banner`, as in `/proc/version`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let banner = vmi.linux()?.banner()?;
    /// assert!(banner.starts_with("Linux version"));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn banner(&self) -> Result<String> {
        self.vmi.os_version()
    }

    fn kread_ptr(&self, va: Va) -> Result<Va> {
        self.vmi.read_ptr(AccessContext::kernel(va))
    }

    fn comm(&self, task: Va) -> Result<String> {
        let mut buf = [0u8; TASK_COMM_LEN];
        let at = task + self.offsets.name;
        let name = self
            .vmi
            .read_cstr_into(AccessContext::kernel(at), &mut buf)
            .map_err(|e| match e {
                Error::GuestData { .. } => Error::guest(
                    "task_struct.comm",
                    Some(at),
                    format!("no NUL within {TASK_COMM_LEN} bytes"),
                ),
                other => other,
            })?;
        Ok(String::from_utf8_lossy(name).into_owned())
    }

    fn task_pid(&self, task: Va) -> Result<Pid> {
        let raw = self
            .vmi
            .read_u32(AccessContext::kernel(task + self.offsets.pid))?;
        Ok(Pid(raw as i32))
    }

    /// Read the process whose `task_struct` is at `task`.
    ///
    /// ```no_run
    /// use libvmi::Pid;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let init_task = vmi.translate_ksym2v("init_task")?;
    /// let swapper = vmi.linux()?.process_at(init_task)?;
    /// assert_eq!(swapper.pid, Pid::KERNEL);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn process_at(&self, task: Va) -> Result<Process> {
        let pid = self.task_pid(task)?;
        let name = self.comm(task)?;
        let mm = self.kread_ptr(task + self.offsets.mm)?;
        let dtb = if mm.0 == 0 {
            None
        } else {
            let pgd = self.kread_ptr(mm + self.offsets.pgd)?;
            Some(Dtb(self.vmi.translate_kv2p(pgd)?.0))
        };
        Ok(Process {
            pid,
            name,
            task,
            dtb,
        })
    }

    /// Every process, starting with the idle task (pid 0, `swapper/0`), in task-list
    /// order, as upstream's `process-list` prints them.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// for process in vmi.linux()?.processes() {
    ///     let p = process?;
    ///     println!("[{:5}] {}", p.pid, p.name);
    /// }
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn processes(&self) -> Processes<'a> {
        let start = self
            .vmi
            .translate_ksym2v("init_task")
            .map(|init| (init, init + self.offsets.tasks));
        Processes {
            linux: *self,
            state: match start {
                Ok((init, head)) => WalkState::Start { first: init, head },
                Err(e) => WalkState::Failed(Some(e)),
            },
            visited: HashSet::new(),
        }
    }

    /// The process with pid `pid`.
    ///
    /// ```no_run
    /// use libvmi::Pid;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let init = vmi.linux()?.process(Pid(1))?;
    /// assert_eq!(init.pid, Pid(1));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn process(&self, pid: Pid) -> Result<Process> {
        for p in self.processes() {
            let p = p?;
            if p.pid == pid {
                return Ok(p);
            }
        }
        Err(Error::Pid { pid })
    }

    /// The threads of `process`, the leader first. Needs the `task_struct.thread_group`
    /// offset (see the [module documentation](self)).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let linux = vmi.linux()?.with_thread_group_offset(0x9d8);
    /// let init = linux.process(libvmi::Pid(1))?;
    /// let first = linux.threads(&init)?.next().transpose()?;
    /// assert_eq!(first.map(|t| t.tid), Some(init.pid)); // the leader comes first
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn threads(&self, process: &Process) -> Result<Threads<'a>> {
        let Some(tg) = self.offsets.thread_group else {
            return Err(Error::Offset {
                name: "linux_thread_group".into(),
            });
        };
        Ok(Threads {
            linux: *self,
            state: WalkState::Start {
                first: process.task,
                head: process.task + tg,
            },
            visited: HashSet::new(),
            offset: tg,
        })
    }

    /// Every loaded kernel module, in list order (most recently loaded first).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// for module in vmi.linux()?.modules() {
    ///     println!("{}", module?.name);
    /// }
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn modules(&self) -> Modules<'a> {
        let head = self.vmi.translate_ksym2v("modules");
        Modules {
            linux: *self,
            state: match head {
                Ok(head) => ModuleState::Start(head),
                Err(e) => ModuleState::Failed(Some(e)),
            },
            visited: HashSet::new(),
        }
    }

    /// The memory of `process` (through its page table), as [`std::io::Read`] +
    /// [`std::io::Seek`]. Kernel threads have none.
    ///
    /// ```no_run
    /// use libvmi::Va;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let linux = vmi.linux()?;
    /// let init = linux.process(libvmi::Pid(1))?;
    /// let mut elf = [0u8; 4];
    /// linux.process_memory(&init)?.read_at(Va(0x40_0000), &mut elf)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn process_memory(&self, process: &Process) -> Result<ProcessMemory<'a>> {
        match process.dtb {
            Some(dtb) => Ok(self.vmi.address_space(Translation::Dtb(dtb))),
            None => Err(Error::Pid { pid: process.pid }),
        }
    }

    /// Follow `entry.next` in a circular list, refusing NULL links and cycles.
    fn next_entry(
        &self,
        what: &'static str,
        entry: Va,
        head: Va,
        visited: &mut HashSet<u64>,
        max: usize,
    ) -> Result<Option<Va>> {
        let next = self.kread_ptr(entry)?;
        if next == head {
            return Ok(None);
        }
        if next.0 == 0 {
            return Err(Error::guest(what, Some(entry), "NULL list link"));
        }
        if next.0 % self.width != 0 {
            return Err(Error::guest(
                what,
                Some(entry),
                format!("misaligned list link {next}"),
            ));
        }
        if !visited.insert(next.0) {
            return Err(Error::guest(
                what,
                Some(next),
                format!("the list loops back after {} entries", visited.len()),
            ));
        }
        if visited.len() > max {
            return Err(Error::guest(
                what,
                Some(next),
                format!("more than {max} entries"),
            ));
        }
        Ok(Some(next))
    }
}

enum WalkState {
    /// Yield `first`, then walk from `head`.
    Start {
        first: Va,
        head: Va,
    },
    /// The last list entry yielded; `head` is the list head.
    At {
        entry: Va,
        head: Va,
    },
    Done,
    Failed(Option<Error>),
}

/// Iterator over processes, from [`Linux::processes`].
///
/// ```no_run
/// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
/// let names: Vec<String> = vmi
///     .linux()?
///     .processes()
///     .map(|p| p.map(|p| p.name))
///     .collect::<Result<_, _>>()?;
/// # Ok::<(), libvmi::Error>(())
/// ```
pub struct Processes<'a> {
    linux: Linux<'a>,
    state: WalkState,
    visited: HashSet<u64>,
}

impl Iterator for Processes<'_> {
    type Item = Result<Process>;

    fn next(&mut self) -> Option<Result<Process>> {
        let tasks = self.linux.offsets.tasks;
        let (task, head) = match std::mem::replace(&mut self.state, WalkState::Done) {
            WalkState::Done => return None,
            WalkState::Failed(e) => return e.map(Err),
            WalkState::Start { first, head } => {
                self.visited.insert(head.0);
                (first, head)
            }
            WalkState::At { entry, head } => {
                match self
                    .linux
                    .next_entry("task list", entry, head, &mut self.visited, MAX_TASKS)
                {
                    Ok(Some(next)) => (next - tasks, head),
                    Ok(None) => return None,
                    Err(e) => return Some(Err(e)),
                }
            }
        };
        match self.linux.process_at(task) {
            Ok(p) => {
                self.state = WalkState::At {
                    entry: task + tasks,
                    head,
                };
                Some(Ok(p))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

impl std::iter::FusedIterator for Processes<'_> {}

/// Iterator over a process's threads, from [`Linux::threads`].
///
/// ```no_run
/// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
/// let linux = vmi.linux()?.with_thread_group_offset(0x9d8);
/// let init = linux.process(libvmi::Pid(1))?;
/// println!("pid 1 has {} threads", linux.threads(&init)?.count());
/// # Ok::<(), libvmi::Error>(())
/// ```
pub struct Threads<'a> {
    linux: Linux<'a>,
    state: WalkState,
    visited: HashSet<u64>,
    offset: u64,
}

impl Iterator for Threads<'_> {
    type Item = Result<Thread>;

    fn next(&mut self) -> Option<Result<Thread>> {
        let (task, head) = match std::mem::replace(&mut self.state, WalkState::Done) {
            WalkState::Done => return None,
            WalkState::Failed(e) => return e.map(Err),
            WalkState::Start { first, head } => {
                self.visited.insert(head.0);
                (first, head)
            }
            WalkState::At { entry, head } => {
                match self.linux.next_entry(
                    "thread group",
                    entry,
                    head,
                    &mut self.visited,
                    MAX_THREADS,
                ) {
                    Ok(Some(next)) => (next - self.offset, head),
                    Ok(None) => return None,
                    Err(e) => return Some(Err(e)),
                }
            }
        };
        let thread = self.linux.task_pid(task).and_then(|tid| {
            Ok(Thread {
                tid,
                name: self.linux.comm(task)?,
                task,
            })
        });
        if thread.is_ok() {
            self.state = WalkState::At {
                entry: task + self.offset,
                head,
            };
        }
        Some(thread)
    }
}

impl std::iter::FusedIterator for Threads<'_> {}

enum ModuleState {
    Start(Va),
    At { entry: Va, head: Va },
    Done,
    Failed(Option<Error>),
}

/// Iterator over kernel modules, from [`Linux::modules`].
///
/// ```no_run
/// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
/// let loaded = vmi.linux()?.modules().filter_map(Result::ok).any(|m| m.name == "ext4");
/// # Ok::<(), libvmi::Error>(())
/// ```
pub struct Modules<'a> {
    linux: Linux<'a>,
    state: ModuleState,
    visited: HashSet<u64>,
}

impl Iterator for Modules<'_> {
    type Item = Result<Module>;

    fn next(&mut self) -> Option<Result<Module>> {
        let (entry, head) = match std::mem::replace(&mut self.state, ModuleState::Done) {
            ModuleState::Done => return None,
            ModuleState::Failed(e) => return e.map(Err),
            ModuleState::Start(head) => {
                self.visited.insert(head.0);
                (head, head)
            }
            ModuleState::At { entry, head } => (entry, head),
        };
        let next =
            match self
                .linux
                .next_entry("module list", entry, head, &mut self.visited, MAX_MODULES)
            {
                Ok(Some(next)) => next,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
        let off = &self.linux.offsets;
        let address = next - off.module_list;
        let at = address + off.module_name;
        let mut buf = [0u8; MODULE_NAME_LEN];
        let name = match self
            .linux
            .vmi
            .read_cstr_into(AccessContext::kernel(at), &mut buf)
        {
            Ok(n) => String::from_utf8_lossy(n).into_owned(),
            Err(Error::GuestData { .. }) => {
                return Some(Err(Error::guest(
                    "struct module.name",
                    Some(at),
                    format!("no NUL within {MODULE_NAME_LEN} bytes"),
                )))
            }
            Err(e) => return Some(Err(e)),
        };
        self.state = ModuleState::At { entry: next, head };
        Some(Ok(Module { name, address }))
    }
}

impl std::iter::FusedIterator for Modules<'_> {}
