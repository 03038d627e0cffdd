//! What only `cli` may read for a session's attribution (capture/attribution.rs): the user
//! from the environment, the current folder.

use crate::capture::attribution::{self, Attribution};

/// The login name: `$USER`, else `$LOGNAME`, else this uid's line of `/etc/passwd`.
pub(crate) fn os_user() -> Option<String> {
    for name in ["USER", "LOGNAME"] {
        if let Some(user) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
            return Some(user);
        }
    }
    let uid = rustix::process::getuid().as_raw().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_owned())
    })
}

/// Who and where, for a session this process starts in the current folder (`record`).
pub(crate) fn here(agent: Option<&str>) -> Attribution {
    let cwd = std::env::current_dir().ok();
    Attribution {
        os_user: os_user(),
        hostname: attribution::hostname(),
        git: cwd.as_deref().map(attribution::git).unwrap_or_default(),
        working_dir: cwd.map(|d| d.display().to_string()),
        agent: agent.map(str::to_owned),
        agent_version: None,
        model: None,
    }
}
