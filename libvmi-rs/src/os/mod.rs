//! OS-aware walks built on LibVMI's configured offsets.
//!
//! * [`linux`]: processes, threads and kernel modules of a Linux guest.

pub mod linux;
