//! A process's (or any address space's) memory as a byte stream: [`std::io::Read`],
//! [`std::io::Write`] and [`std::io::Seek`] over virtual addresses, memflow-style.
//!
//! The stream position is a virtual address. Reads stop at the first unmapped page: a
//! read that gets some bytes returns them; a read at an unmapped address is an error
//! (whose source is an [`Error::Read`] naming the address). `SeekFrom::End(n)` counts from
//! 2^64 (the end of the address space), so only negative `n` are possible.
//!
//! ```no_run
//! use std::io::{Read, Seek, SeekFrom};
//! use libvmi::{Pid, Va};
//! # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
//! let mut mem = vmi.process_memory(Pid(1))?;
//! mem.seek(SeekFrom::Start(0x40_0000))?;
//! let mut elf = [0u8; 4];
//! mem.read_exact(&mut elf)?;
//! assert_eq!(&elf, b"\x7fELF");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::addr::{AccessContext, Pid, Translation, Va};
use crate::error::{Error, Result};
use crate::instance::Vmi;
use std::io;

/// The memory of one address space, from [`Vmi::process_memory`] or
/// [`Vmi::address_space`].
///
/// ```no_run
/// use libvmi::{Pid, Va};
/// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
/// let mem = vmi.process_memory(Pid(1))?;
/// let mut elf = [0u8; 4];
/// mem.read_at(Va(0x40_0000), &mut elf)?;
/// assert_eq!(&elf, b"\x7fELF");
/// # Ok::<(), libvmi::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ProcessMemory<'a> {
    vmi: &'a Vmi,
    translation: Translation,
    pos: u64,
}

impl Vmi {
    /// The memory of process `pid`. Its page table is looked up once
    /// (`vmi_pid_to_dtb`), so reads do not search the process list again.
    ///
    /// ```no_run
    /// use libvmi::{Pid, Translation};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mem = vmi.process_memory(Pid(1))?;
    /// assert_eq!(mem.translation(), Translation::Dtb(vmi.pid_to_dtb(Pid(1))?));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn process_memory(&self, pid: Pid) -> Result<ProcessMemory<'_>> {
        let translation = if pid.is_kernel() {
            Translation::Kernel
        } else {
            Translation::Dtb(self.pid_to_dtb(pid)?)
        };
        Ok(self.address_space(translation))
    }

    /// The memory of the address space `translation` selects.
    ///
    /// ```no_run
    /// use libvmi::{Translation, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let kernel = vmi.address_space(Translation::Kernel);
    /// let banner = kernel.read_cstring_at(vmi.translate_ksym2v("linux_banner")?, 256)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn address_space(&self, translation: Translation) -> ProcessMemory<'_> {
        ProcessMemory {
            vmi: self,
            translation,
            pos: 0,
        }
    }
}

impl ProcessMemory<'_> {
    /// The address space.
    ///
    /// ```no_run
    /// use libvmi::{Pid, Translation};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// assert_eq!(vmi.process_memory(Pid::KERNEL)?.translation(), Translation::Kernel);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[must_use]
    pub fn translation(&self) -> Translation {
        self.translation
    }

    /// The current position.
    ///
    /// ```no_run
    /// use std::io::{Read, Seek, SeekFrom};
    /// use libvmi::{Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mut mem = vmi.process_memory(Pid(1))?;
    /// mem.seek(SeekFrom::Start(0x40_0000))?;
    /// mem.read_exact(&mut [0u8; 16])?;
    /// assert_eq!(mem.position(), Va(0x40_0010));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn position(&self) -> Va {
        Va(self.pos)
    }

    fn ctx(&self, va: Va) -> AccessContext {
        AccessContext::Virtual(va, self.translation)
    }

    /// Read `buf.len()` bytes at `va` (position unchanged).
    ///
    /// ```no_run
    /// use libvmi::{Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mem = vmi.process_memory(Pid(1))?;
    /// let mut header = [0u8; 64];
    /// mem.read_at(Va(0x40_0000), &mut header)?;
    /// assert_eq!(mem.position(), Va(0)); // unchanged
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_at(&self, va: Va, buf: &mut [u8]) -> Result<()> {
        self.vmi.read(self.ctx(va), buf)
    }

    /// Write `data` at `va` (position unchanged).
    ///
    /// ```no_run
    /// use libvmi::{Pid, Va};
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let mem = vmi.process_memory(Pid(1234))?;
    /// mem.write_at(Va(0x40_1000), &[0xcc])?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn write_at(&self, va: Va, data: &[u8]) -> Result<()> {
        self.vmi.write(self.ctx(va), data)
    }

    /// Read a NUL-terminated string at `va`, at most `max_len` bytes.
    ///
    /// ```no_run
    /// use libvmi::{Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mem = vmi.process_memory(Pid(1))?;
    /// let interp = mem.read_cstring_at(Va(0x40_0318), 256)?; // e.g. "/lib64/ld-linux-x86-64.so.2"
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_cstring_at(&self, va: Va, max_len: usize) -> Result<String> {
        self.vmi.read_cstring(self.ctx(va), max_len)
    }

    /// Translate `va` to a physical address.
    ///
    /// ```no_run
    /// use libvmi::{Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mem = vmi.process_memory(Pid(1))?;
    /// assert_eq!(mem.translate(Va(0x40_0000))?, vmi.translate_uv2p(Va(0x40_0000), Pid(1))?);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn translate(&self, va: Va) -> Result<crate::Pa> {
        self.vmi.translate(self.ctx(va))
    }
}

impl io::Read for ProcessMemory<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Do not wrap past the end of the address space.
        let room = usize::try_from(0u64.wrapping_sub(self.pos)).unwrap_or(usize::MAX);
        let len = if self.pos == 0 {
            buf.len()
        } else {
            buf.len().min(room)
        };
        let buf = &mut buf[..len];
        if buf.is_empty() {
            return Ok(0);
        }
        let ctx = self.ctx(Va(self.pos));
        let n = self.vmi.read_partial(ctx, buf)?;
        if n == 0 {
            return Err(Error::Read {
                ctx,
                len: buf.len(),
                done: 0,
            }
            .into());
        }
        self.pos = self.pos.wrapping_add(n as u64);
        Ok(n)
    }
}

impl io::Write for ProcessMemory<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let ctx = self.ctx(Va(self.pos));
        match self.vmi.write(ctx, data) {
            Ok(()) => {
                self.pos = self.pos.wrapping_add(data.len() as u64);
                Ok(data.len())
            }
            Err(Error::Write { done, .. }) if done > 0 => {
                self.pos = self.pos.wrapping_add(done as u64);
                Ok(done)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Seek for ProcessMemory<'_> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let invalid = || {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek outside the address space",
            )
        };
        self.pos = match pos {
            io::SeekFrom::Start(p) => p,
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d).ok_or_else(invalid)?,
            io::SeekFrom::End(d) if d < 0 => 0u64.wrapping_sub(d.unsigned_abs()),
            io::SeekFrom::End(_) => return Err(invalid()),
        };
        Ok(self.pos)
    }
}
