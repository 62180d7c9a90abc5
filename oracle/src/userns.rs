//! Getting the privileges needed to create network namespaces.
//!
//! [`ensure_privileges`] must be called at the very start of `main()` (or of
//! a custom test harness's main), before any thread exists: entering a new
//! user namespace with `unshare(CLONE_NEWUSER)` is only allowed to a
//! single-threaded process.

use std::sync::OnceLock;

use crate::kernel::Errno;
use crate::netns::NetnsError;

/// How the process is allowed to create network namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    /// Effective uid 0 (in the namespace the process started in).
    Root,
    /// Not root: the process moved itself into a new user namespace where it
    /// is root (uid/gid 0 mapped to the real uid/gid).
    UserNamespace,
}

static PRIVILEGE: OnceLock<Result<Privilege, String>> = OnceLock::new();

/// Makes sure this process may create network namespaces. Idempotent: later
/// calls return the first call's result.
pub fn ensure_privileges() -> Result<Privilege, NetnsError> {
    PRIVILEGE
        .get_or_init(acquire)
        .clone()
        .map_err(NetnsError::UserNamespace)
}

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(1)
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Explains why unshare(CLONE_NEWUSER) failed with `errno`.
fn explain_unshare_failure(errno: Errno) -> String {
    let mut why = Vec::new();
    if read_trimmed("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        why.push(
            "unprivileged user namespaces are disabled: kernel.unprivileged_userns_clone=0"
                .to_string(),
        );
    }
    if read_trimmed("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        why.push("user namespaces are disabled: user.max_user_namespaces=0".to_string());
    }
    if read_trimmed("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref()
        == Some("1")
    {
        why.push(
            "AppArmor restricts unprivileged user namespaces: kernel.apparmor_restrict_unprivileged_userns=1"
                .to_string(),
        );
    }
    // SAFETY: trivial getter.
    let euid = unsafe { libc::geteuid() };
    if errno.0 == libc::EPERM && !uid_mapped(euid) {
        why.push(format!(
            "euid {euid} has no mapping in the current user namespace (/proc/self/uid_map), \
             e.g. the process runs inside an `unshare -U` without --map-root-user"
        ));
    }
    match errno.0 {
        libc::EINVAL => why.push(
            "the process is multi-threaded (ensure_privileges must run before any thread is started)"
                .to_string(),
        ),
        libc::ENOSPC => why.push("the user namespace limit is reached (user.max_user_namespaces)".to_string()),
        libc::EPERM if why.is_empty() => why.push(
            "not permitted (chroot, seccomp filter, or a container that forbids nested user namespaces)"
                .to_string(),
        ),
        _ => {}
    }
    format!("unshare(CLONE_NEWUSER) failed: {errno}; {}", why.join("; "))
}

/// Whether `uid` appears in the inside range of /proc/self/uid_map.
fn uid_mapped(uid: u32) -> bool {
    let Some(map) = read_trimmed("/proc/self/uid_map") else {
        return true;
    };
    map.lines().any(|l| {
        let v: Vec<u64> = l
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        v.len() == 3 && (v[0]..v[0] + v[2]).contains(&u64::from(uid))
    })
}

fn acquire() -> Result<Privilege, String> {
    // SAFETY: trivial getters.
    let (euid, uid, gid) = unsafe { (libc::geteuid(), libc::getuid(), libc::getgid()) };
    if euid == 0 {
        return Ok(Privilege::Root);
    }
    let threads = thread_count();
    if threads > 1 {
        return Err(format!(
            "not root (euid {euid}) and the process already has {threads} threads: \
             ensure_privileges() must be called at the start of main(), before any thread exists"
        ));
    }
    // SAFETY: single-threaded; affects the whole process.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
        return Err(explain_unshare_failure(Errno::last()));
    }
    let write = |path: &str, data: String| -> Result<(), String> {
        std::fs::write(path, &data).map_err(|e| {
            format!(
                "entered a user namespace but writing {data:?} to {path} failed: {}",
                Errno(e.raw_os_error().unwrap_or(libc::EIO))
            )
        })
    };
    // "deny" is required before an unprivileged process may write gid_map.
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("0 {uid} 1"))?;
    write("/proc/self/gid_map", format!("0 {gid} 1"))?;
    Ok(Privilege::UserNamespace)
}

static NS_AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();

/// Raises this process's scheduling priority (nice −10) where it may (root,
/// or CAP_SYS_NICE): the real-time DUTs are judged against millisecond
/// tolerances, and a build or another test on the same cores can otherwise
/// delay the stack's driver or the testbench by more than that (measured:
/// a stack SYN-ACK 4.5 ms late with two builds running). Call it before any
/// thread exists: threads inherit it. Returns whether it took effect; never
/// fails the run (an unprivileged user namespace cannot raise priority).
pub fn raise_priority() -> bool {
    // SAFETY: setpriority on the calling process with plain integer args.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, -10) };
    rc == 0
}

/// Checks (once; the result is cached) whether a network namespace can be
/// created right now, by creating and discarding one on a throwaway thread.
/// The error says why not.
pub fn namespaces_available() -> Result<(), String> {
    NS_AVAILABLE
        .get_or_init(|| {
            let r = std::thread::Builder::new()
                .name("netns-probe".into())
                .spawn(|| {
                    // SAFETY: affects only this throwaway thread, whose
                    // namespace dies with it.
                    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                        Err(Errno::last())
                    } else {
                        Ok(())
                    }
                })
                .map_err(|e| format!("cannot spawn probe thread: {e}"))?
                .join()
                .map_err(|_| "probe thread panicked".to_string())?;
            r.map_err(|errno| {
                // SAFETY: trivial getter.
                let euid = unsafe { libc::geteuid() };
                let hint = match (errno.0, PRIVILEGE.get()) {
                    (libc::EPERM, None) => format!(
                        "not root (euid {euid}) and ensure_privileges() was not called at the start of main"
                    ),
                    (libc::EPERM, Some(Err(why))) => {
                        format!("not root and no user namespace: {why}")
                    }
                    (libc::EPERM, Some(Ok(_))) => {
                        "not permitted even with privileges (seccomp or container policy?)".into()
                    }
                    (libc::ENOSPC, _) => "namespace limit reached (user.max_net_namespaces)".into(),
                    _ => String::new(),
                };
                format!("cannot create a network namespace: unshare(CLONE_NEWNET): {errno}; {hint}")
            })
        })
        .clone()
}
