//! The policy in force while capturing: the pre-tool hook and the MCP proxies ask it whether a
//! call may run, and it answers with the denial to send and to record.

use serde_json::{Map, Value};

use crate::model::Agent;
use crate::model::policy::check::{Found, Held, Place, Status, check};
use crate::model::policy::{Policy, reason};
use crate::model::tools;
use crate::model::view::ToolCall;

/// A policy and where it lives.
#[derive(Debug, Clone)]
pub struct Guard {
    pub policy: Policy,
    /// The file, as the reason names it.
    pub file: String,
    /// The folders its globs are relative to (the file's own).
    pub roots: Vec<String>,
    /// The folder the agent was started in, when known ([`Place::launch`]).
    pub launch: Option<String>,
    /// The home folder, when known ([`Place::home`]).
    pub home: Option<String>,
}

/// Why a call was denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub rule: &'static str,
    pub pattern: Option<String>,
    /// What the agent is told: rule, file, what to do instead.
    pub reason: String,
}

impl Denial {
    /// What a denied call's event carries under [`crate::model::policy::DENIED_KEY`].
    pub fn record(&self) -> Value {
        let mut data = Map::new();
        data.insert("rule".into(), self.rule.into());
        if let Some(p) = &self.pattern {
            data.insert("pattern".into(), p.clone().into());
        }
        data.insert("reason".into(), self.reason.clone().into());
        Value::Object(data)
    }
}

impl Guard {
    /// Whether a call may run: `None` when it may, the denial when it violates the policy.
    pub fn judge(
        &self,
        agent: Agent,
        tool: &str,
        input: &Value,
        cwd: Option<&str>,
    ) -> Option<Denial> {
        let call = ToolCall {
            agent,
            tool,
            kind: tools::classify(agent, tool),
            spec: tools::spec_of(agent, tool),
            arguments: input,
            tool_use_id: None,
            cwd,
        };
        let mut roots = self.roots.clone();
        roots.extend(cwd.map(str::to_owned));
        let place = Place {
            cwd: cwd.map(str::to_owned),
            roots,
            launch: self.launch.clone(),
            home: self.home.clone(),
            probe: Some(on_disk),
            read: Some(held),
        };
        let verdict = check(&self.policy, &call, &place);
        (verdict.status == Status::Violation).then(|| Denial {
            rule: verdict.rule.unwrap_or("policy"),
            pattern: verdict.pattern.clone(),
            reason: reason::reason(&self.policy, &verdict, &self.file),
        })
    }
}

/// What is at `path` on this machine ([`Place::probe`]): a link is what it leads to, or a file
/// when it leads nowhere, as git takes a link.
pub fn on_disk(path: &str) -> Found {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Found::Folder,
        Ok(_) => Found::File,
        Err(_) if std::fs::symlink_metadata(path).is_ok() => Found::File,
        Err(_) => Found::Nothing,
    }
}

/// At most this many bytes of a file are read for what it holds ([`held`]): a patch an agent
/// applies is seldom larger.
const HELD_LIMIT: u64 = 1 << 20;

/// What the file at `path` holds ([`Place::read`]): only a regular file of at most
/// [`HELD_LIMIT`] bytes is read, never through a link at its name (which the agent may have
/// made to lead anywhere). Anything else is not opened (a FIFO would hold the hook, a device
/// may act on being opened), and the file is opened without waiting, and looked at again once
/// open, should it have been swapped for something else meanwhile.
pub fn held(path: &str) -> Held {
    use rustix::fs::{FileType, Mode, OFlags};
    use std::io::Read;
    let gone = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
        )
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => {}
        Err(e) if gone(&e) => return Held::Nothing,
        Ok(_) | Err(_) => return Held::Unread,
    }
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY;
    let fd = match rustix::fs::openat(
        rustix::fs::CWD,
        path,
        flags | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => return Held::Nothing,
        Err(_) => return Held::Unread,
    };
    let regular = rustix::fs::fstat(&fd).is_ok_and(|stat| {
        FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile
            && u64::try_from(stat.st_size).is_ok_and(|size| size <= HELD_LIMIT)
    });
    if !regular {
        return Held::Unread;
    }
    let mut bytes = Vec::new();
    let read = std::fs::File::from(fd)
        .take(HELD_LIMIT + 1)
        .read_to_end(&mut bytes);
    if read.is_err() || bytes.len() as u64 > HELD_LIMIT {
        return Held::Unread;
    }
    Held::Text(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_file_holds_is_read_only_from_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        std::fs::write(at("p"), "diff").unwrap();
        std::fs::write(
            at("big"),
            vec![b'x'; usize::try_from(HELD_LIMIT).unwrap() + 1],
        )
        .unwrap();
        std::os::unix::fs::symlink("p", at("link")).unwrap();
        std::fs::create_dir(at("d")).unwrap();
        assert_eq!(held(&at("p")), Held::Text("diff".into()));
        assert_eq!(held(&at("none")), Held::Nothing);
        assert_eq!(held(&at("p/x")), Held::Nothing);
        for unread in ["big", "link", "d"] {
            assert_eq!(held(&at(unread)), Held::Unread, "{unread}");
        }
        assert_eq!(held("/dev/zero"), Held::Unread);
        let fifo = at("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert_eq!(held(&fifo), Held::Unread);
    }
}
