//! Random bytes from the kernel: `getrandom(2)` where the OS has it, `/dev/urandom` elsewhere
//! (the resolver's query ids come from here).

use crate::{Errno, Result};

/// Fills `buf` with random bytes from the kernel's generator.
///
/// Linux, Android and FreeBSD: `getrandom(buf, len, 0)`, retried on `EINTR` and short reads.
/// Elsewhere: reads `/dev/urandom` (opened `O_CLOEXEC`, closed before returning).
///
/// Blocks only early in boot, until the kernel's generator has been seeded.
///
/// ```
/// let mut key = [0u8; 32];
/// isys::getrandom(&mut key)?;
/// assert_ne!(key, [0u8; 32]);
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// The errno of `getrandom(2)` (`ENOSYS` on a kernel older than Linux 3.17, `EPERM` under a
/// seccomp filter that forbids it), or of opening or reading `/dev/urandom` (`ENOENT`,
/// `EMFILE`/`ENFILE`, `EIO` for a short read). `EINTR` is retried here.
pub fn getrandom(buf: &mut [u8]) -> Result<()> {
    cfg_if::cfg_if! {
        if #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))] {
            let mut done = 0;
            while done < buf.len() {
                let rest = &mut buf[done..];
                match syscall!(getrandom(rest.as_mut_ptr().cast(), rest.len(), 0)) {
                    Ok(n) => done += n as usize,
                    Err(Errno::EINTR) => continue,
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        } else {
            use std::io::Read;
            let mut f = std::fs::File::open("/dev/urandom")
                .map_err(|e| crate::errno_from_io(&e))?;
            f.read_exact(buf).map_err(|e| {
                if e.raw_os_error().is_some() { crate::errno_from_io(&e) } else { Errno::EIO }
            })
        }
    }
}

/// A random `u16` from [`getrandom`].
///
/// ```
/// let query_id: u16 = isys::random_u16()?;
/// println!("DNS query id {query_id}");
/// # Ok::<(), isys::Errno>(())
/// ```
///
/// # Errors
/// As [`getrandom`].
pub fn random_u16() -> Result<u16> {
    let mut b = [0u8; 2];
    getrandom(&mut b)?;
    Ok(u16::from_ne_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_varies() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        getrandom(&mut a).unwrap();
        getrandom(&mut b).unwrap();
        assert_ne!(a, b);
        getrandom(&mut []).unwrap();
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| random_u16().unwrap()).collect();
        assert!(ids.len() > 32);
    }
}
