//! Typed addresses and identifiers, and the access context that says how an address is
//! translated.
//!
//! LibVMI passes every address as a bare `addr_t` (`u64`); mixing a guest-virtual address
//! with a guest-physical one is a silent bug there. Here each kind has its own type:
//!
//! | type | what |
//! |---|---|
//! | [`Va`] | a guest-virtual address |
//! | [`Pa`] | a guest-physical address |
//! | [`Gfn`] | a guest frame number (physical address / 4 KiB) |
//! | [`Dtb`] | a directory table base: the physical address of a page-table root (CR3) |
//! | [`Pid`] | a guest process id as the OS knows it (`0` is the kernel) |
//!
//! ```
//! use libvmi::{Gfn, Pa, Va};
//!
//! let pa = Pa(0x1234_5678);
//! assert_eq!(pa.gfn(), Gfn(0x12345));
//! assert_eq!(pa.page_offset(), 0x678);
//! assert_eq!(Gfn(0x12345).pa(), Pa(0x1234_5000));
//! assert_eq!(Va(0xffff_ffff_8100_0000) + 0x10, Va(0xffff_ffff_8100_0010));
//! assert_eq!(format!("{}", Va(0x1000)), "0x1000");
//! ```

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// Size of the base page LibVMI and x86 use: 4 KiB.
///
/// ```
/// use libvmi::{Va, PAGE_SIZE};
/// assert_eq!(PAGE_SIZE, 4096);
/// assert_eq!(Va(0x1234).page_base() + PAGE_SIZE, Va(0x2000));
/// ```
pub const PAGE_SIZE: u64 = 0x1000;
/// log2 of [`PAGE_SIZE`].
///
/// ```
/// use libvmi::{PAGE_SHIFT, PAGE_SIZE};
/// assert_eq!(1u64 << PAGE_SHIFT, PAGE_SIZE);
/// ```
pub const PAGE_SHIFT: u32 = 12;

macro_rules! address_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[repr(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw value.
            ///
            /// ```
            /// use libvmi::Va;
            /// assert_eq!(Va(0xffff_8000_0000_1000).raw(), 0xffff_8000_0000_1000);
            /// ```
            #[inline]
            #[must_use]
            pub const fn raw(self) -> u64 {
                self.0
            }

            /// The offset inside its 4 KiB page.
            ///
            /// ```
            /// use libvmi::Va;
            /// assert_eq!(Va(0x40_1234).page_offset(), 0x234);
            /// ```
            #[inline]
            #[must_use]
            pub const fn page_offset(self) -> u64 {
                self.0 & (PAGE_SIZE - 1)
            }

            /// The address rounded down to its 4 KiB page.
            ///
            /// ```
            /// use libvmi::Va;
            /// assert_eq!(Va(0x40_1234).page_base(), Va(0x40_1000));
            /// ```
            #[inline]
            #[must_use]
            pub const fn page_base(self) -> Self {
                Self(self.0 & !(PAGE_SIZE - 1))
            }

            /// `self + offset`, or `None` on overflow.
            ///
            /// ```
            /// use libvmi::Va;
            /// assert_eq!(Va(0x1000).checked_add(0x10), Some(Va(0x1010)));
            /// assert_eq!(Va(u64::MAX).checked_add(1), None);
            /// ```
            #[inline]
            #[must_use]
            pub const fn checked_add(self, offset: u64) -> Option<Self> {
                match self.0.checked_add(offset) {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }

            /// `self + offset`, wrapping at 2^64 (guest pointer arithmetic).
            ///
            /// ```
            /// use libvmi::Va;
            /// assert_eq!(Va(0x1000).wrapping_add(0x8), Va(0x1008));
            /// assert_eq!(Va(u64::MAX).wrapping_add(1), Va(0));
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_add(self, offset: u64) -> Self {
                Self(self.0.wrapping_add(offset))
            }

            /// `self - offset`, wrapping at 2^64 (e.g. from a list entry back to its struct).
            ///
            /// ```
            /// use libvmi::Va;
            /// // From a `list_head` embedded at offset 0x8a8 back to its `task_struct`:
            /// let list_entry = Va(0xffff_8880_0123_48a8);
            /// assert_eq!(list_entry.wrapping_sub(0x8a8), Va(0xffff_8880_0123_4000));
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_sub(self, offset: u64) -> Self {
                Self(self.0.wrapping_sub(offset))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:#x}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:#x})"), self.0)
            }
        }

        impl fmt::LowerHex for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }

        impl Add<u64> for $name {
            type Output = Self;
            /// Wrapping addition (guest pointer arithmetic never panics).
            #[inline]
            fn add(self, rhs: u64) -> Self {
                self.wrapping_add(rhs)
            }
        }

        impl AddAssign<u64> for $name {
            #[inline]
            fn add_assign(&mut self, rhs: u64) {
                *self = self.wrapping_add(rhs);
            }
        }

        impl Sub<u64> for $name {
            type Output = Self;
            /// Wrapping subtraction.
            #[inline]
            fn sub(self, rhs: u64) -> Self {
                self.wrapping_sub(rhs)
            }
        }

        impl Sub<$name> for $name {
            type Output = u64;
            /// The distance between two addresses (wrapping).
            #[inline]
            fn sub(self, rhs: $name) -> u64 {
                self.0.wrapping_sub(rhs.0)
            }
        }

        impl From<u64> for $name {
            #[inline]
            fn from(v: u64) -> Self {
                Self(v)
            }
        }

        impl From<$name> for u64 {
            #[inline]
            fn from(v: $name) -> u64 {
                v.0
            }
        }
    };
}

address_type!(
    /// A guest-virtual address.
    ///
    /// ```
    /// use libvmi::Va;
    /// let task = Va(0xffff_ffff_8260_0940);
    /// assert_eq!((task + 0x8a8).raw(), 0xffff_ffff_8260_11e8);
    /// assert_eq!(task.page_base(), Va(0xffff_ffff_8260_0000));
    /// ```
    Va
);
address_type!(
    /// A guest-physical address (in File mode: an offset into the image).
    ///
    /// ```
    /// use libvmi::{Gfn, Pa};
    /// assert_eq!(Pa(0x2000).gfn(), Gfn(2));
    /// ```
    Pa
);
address_type!(
    /// A directory table base: the guest-physical address of a page-table root, as loaded
    /// into CR3 (x86) or TTBR (ARM). One per address space.
    ///
    /// ```
    /// use libvmi::{Dtb, Pa};
    /// let dtb = Dtb(0x10d_a000);
    /// assert_eq!(dtb.pa(), Pa(0x10d_a000));
    /// ```
    Dtb
);

impl Pa {
    /// The frame this address lies in.
    ///
    /// ```
    /// use libvmi::{Gfn, Pa};
    /// assert_eq!(Pa(0x1234_5678).gfn(), Gfn(0x12345));
    /// ```
    #[inline]
    #[must_use]
    pub const fn gfn(self) -> Gfn {
        Gfn(self.0 >> PAGE_SHIFT)
    }
}

impl Dtb {
    /// The page-table root as a physical address.
    ///
    /// ```
    /// use libvmi::{Dtb, Pa};
    /// assert_eq!(Dtb(0x10d_a000).pa(), Pa(0x10d_a000));
    /// ```
    #[inline]
    #[must_use]
    pub const fn pa(self) -> Pa {
        Pa(self.0)
    }
}

/// A guest frame number: a guest-physical address divided by the 4 KiB page size.
/// Memory events are set per frame.
///
/// ```
/// use libvmi::{Gfn, Pa};
/// assert_eq!(Gfn(0x10).pa(), Pa(0x10000));
/// assert_eq!(format!("{}", Gfn(0x10)), "0x10");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Gfn(pub u64);

impl Gfn {
    /// The physical address of the frame's first byte.
    ///
    /// ```
    /// use libvmi::{Gfn, Pa};
    /// assert_eq!(Gfn(0x9f).pa(), Pa(0x9_f000));
    /// ```
    #[inline]
    #[must_use]
    pub const fn pa(self) -> Pa {
        Pa(self.0 << PAGE_SHIFT)
    }

    /// The raw frame number.
    ///
    /// ```
    /// use libvmi::{Gfn, Pa};
    /// assert_eq!(Pa(0x9_f123).gfn().raw(), 0x9f);
    /// ```
    #[inline]
    #[must_use]
    pub const fn raw(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Gfn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::Debug for Gfn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gfn({:#x})", self.0)
    }
}

/// A guest process id (LibVMI's `vmi_pid_t`). [`Pid::KERNEL`] (`0`) selects the kernel's
/// address space.
///
/// ```
/// use libvmi::Pid;
/// assert!(Pid::KERNEL.is_kernel());
/// assert_eq!(Pid(42).to_string(), "42");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
#[repr(transparent)]
pub struct Pid(pub i32);

impl Pid {
    /// PID 0: the kernel (Linux's idle task `swapper/0`). Translating through it uses the
    /// kernel page table.
    ///
    /// ```
    /// use libvmi::Pid;
    /// assert_eq!(Pid::KERNEL, Pid(0));
    /// assert!(Pid::KERNEL.is_kernel());
    /// ```
    pub const KERNEL: Pid = Pid(0);

    /// Whether this is [`Pid::KERNEL`].
    ///
    /// ```
    /// use libvmi::Pid;
    /// assert!(Pid(0).is_kernel());
    /// assert!(!Pid(1).is_kernel());
    /// ```
    #[inline]
    #[must_use]
    pub const fn is_kernel(self) -> bool {
        self.0 == 0
    }

    /// The raw value.
    ///
    /// ```
    /// use libvmi::Pid;
    /// assert_eq!(Pid(1234).raw(), 1234);
    /// ```
    #[inline]
    #[must_use]
    pub const fn raw(self) -> i32 {
        self.0
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<i32> for Pid {
    fn from(v: i32) -> Self {
        Pid(v)
    }
}

/// How a virtual address is translated into a physical one.
///
/// ```
/// use libvmi::{Dtb, Pid, Translation};
/// assert_eq!(Translation::Kernel.to_string(), "kernel page table");
/// assert_eq!(Translation::Pid(Pid(7)).to_string(), "page table of pid 7");
/// assert_eq!(Translation::Dtb(Dtb(0x1000)).to_string(), "page table at 0x1000");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Translation {
    /// Through the kernel's page table (LibVMI's `kpgd`; pid 0).
    Kernel,
    /// Through the page table of a process, found by LibVMI from its pid.
    Pid(Pid),
    /// Through the page table rooted at this directory table base.
    Dtb(Dtb),
}

impl fmt::Display for Translation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Translation::Kernel => f.write_str("kernel page table"),
            Translation::Pid(pid) => write!(f, "page table of pid {pid}"),
            Translation::Dtb(dtb) => write!(f, "page table at {dtb}"),
        }
    }
}

/// An address and how to reach it: a physical address, or a virtual address with the
/// [`Translation`] that maps it. Every memory access takes one.
///
/// ```
/// use libvmi::{AccessContext, Dtb, Pa, Pid, Va};
///
/// let phys = AccessContext::physical(Pa(0x9000));
/// let kernel = AccessContext::kernel(Va(0xffff_ffff_8100_0000));
/// let user = AccessContext::pid(Va(0x40_0000), Pid(1));
/// let by_dtb = AccessContext::dtb(Va(0x40_0000), Dtb(0x10_a000));
///
/// assert_eq!(phys.to_string(), "physical address 0x9000");
/// assert_eq!(user.to_string(), "virtual address 0x400000 (page table of pid 1)");
/// assert_eq!((kernel + 8).address(), 0xffff_ffff_8100_0008);
/// assert!(by_dtb.is_virtual());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AccessContext {
    /// A guest-physical address; no translation.
    Physical(Pa),
    /// A guest-virtual address and the page table that maps it.
    Virtual(Va, Translation),
}

impl AccessContext {
    /// A physical address.
    ///
    /// ```
    /// use libvmi::{AccessContext, Pa};
    /// let ctx = AccessContext::physical(Pa(0x9000));
    /// assert!(!ctx.is_virtual());
    /// assert_eq!(ctx, AccessContext::Physical(Pa(0x9000)));
    /// ```
    #[inline]
    #[must_use]
    pub const fn physical(pa: Pa) -> Self {
        AccessContext::Physical(pa)
    }

    /// A kernel virtual address (translated through the kernel page table).
    ///
    /// ```
    /// use libvmi::{AccessContext, Translation, Va};
    /// let ctx = AccessContext::kernel(Va(0xffff_ffff_8100_0000));
    /// assert_eq!(ctx, AccessContext::Virtual(Va(0xffff_ffff_8100_0000), Translation::Kernel));
    /// ```
    #[inline]
    #[must_use]
    pub const fn kernel(va: Va) -> Self {
        AccessContext::Virtual(va, Translation::Kernel)
    }

    /// A virtual address in the address space of process `pid` (LibVMI finds its page
    /// table; [`Pid::KERNEL`] means the kernel).
    ///
    /// ```
    /// use libvmi::{AccessContext, Pid, Translation, Va};
    /// let ctx = AccessContext::pid(Va(0x40_0000), Pid(1));
    /// assert_eq!(ctx, AccessContext::Virtual(Va(0x40_0000), Translation::Pid(Pid(1))));
    /// ```
    #[inline]
    #[must_use]
    pub const fn pid(va: Va, pid: Pid) -> Self {
        AccessContext::Virtual(va, Translation::Pid(pid))
    }

    /// A virtual address translated through the page table rooted at `dtb`.
    ///
    /// ```
    /// use libvmi::{AccessContext, Dtb, Va};
    /// let ctx = AccessContext::dtb(Va(0x40_0000), Dtb(0x10_a000));
    /// assert_eq!(ctx.to_string(), "virtual address 0x400000 (page table at 0x10a000)");
    /// ```
    #[inline]
    #[must_use]
    pub const fn dtb(va: Va, dtb: Dtb) -> Self {
        AccessContext::Virtual(va, Translation::Dtb(dtb))
    }

    /// The raw address (virtual or physical).
    ///
    /// ```
    /// use libvmi::{AccessContext, Pa, Pid, Va};
    /// assert_eq!(AccessContext::physical(Pa(0x9000)).address(), 0x9000);
    /// assert_eq!(AccessContext::pid(Va(0x40_0000), Pid(1)).address(), 0x40_0000);
    /// ```
    #[inline]
    #[must_use]
    pub const fn address(&self) -> u64 {
        match self {
            AccessContext::Physical(pa) => pa.0,
            AccessContext::Virtual(va, _) => va.0,
        }
    }

    /// Whether the address is virtual.
    ///
    /// ```
    /// use libvmi::{AccessContext, Pa, Va};
    /// assert!(AccessContext::kernel(Va(0xffff_ffff_8100_0000)).is_virtual());
    /// assert!(!AccessContext::physical(Pa(0x9000)).is_virtual());
    /// ```
    #[inline]
    #[must_use]
    pub const fn is_virtual(&self) -> bool {
        matches!(self, AccessContext::Virtual(..))
    }

    /// The same translation, another address: `self` moved by `offset` bytes (wrapping).
    ///
    /// ```
    /// use libvmi::{AccessContext, Pid, Va};
    /// let base = AccessContext::pid(Va(0x40_0000), Pid(1));
    /// assert_eq!(base.offset(0x10), AccessContext::pid(Va(0x40_0010), Pid(1)));
    /// ```
    #[inline]
    #[must_use]
    pub const fn offset(self, offset: u64) -> Self {
        match self {
            AccessContext::Physical(pa) => AccessContext::Physical(pa.wrapping_add(offset)),
            AccessContext::Virtual(va, t) => AccessContext::Virtual(va.wrapping_add(offset), t),
        }
    }
}

impl Add<u64> for AccessContext {
    type Output = AccessContext;
    #[inline]
    fn add(self, rhs: u64) -> AccessContext {
        self.offset(rhs)
    }
}

impl From<Pa> for AccessContext {
    fn from(pa: Pa) -> Self {
        AccessContext::Physical(pa)
    }
}

impl fmt::Display for AccessContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessContext::Physical(pa) => write!(f, "physical address {pa}"),
            AccessContext::Virtual(va, t) => write!(f, "virtual address {va} ({t})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_wraps_and_pages() {
        assert_eq!(Va(u64::MAX) + 1, Va(0));
        assert_eq!(Va(0) - 1, Va(u64::MAX));
        assert_eq!(Va(0x1fff).page_base(), Va(0x1000));
        assert_eq!(Va(0x3000) - Va(0x1000), 0x2000);
        assert_eq!(Pa(0x1000).checked_add(u64::MAX), None);
        assert_eq!(format!("{:?}", Pa(0x10)), "Pa(0x10)");
        assert_eq!(format!("{:x}", Va(0xab)), "ab");
    }

    #[test]
    fn contexts() {
        let c = AccessContext::dtb(Va(0x10), Dtb(0x2000)) + 0x10;
        assert_eq!(c, AccessContext::dtb(Va(0x20), Dtb(0x2000)));
        assert_eq!(
            AccessContext::kernel(Va(1)).to_string(),
            "virtual address 0x1 (kernel page table)"
        );
        assert!(!AccessContext::from(Pa(3)).is_virtual());
    }
}
