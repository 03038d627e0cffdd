#!/usr/bin/env python3
"""Cross-check agent-strace's per-session token totals against ccusage's on the same files.

Usage:
    python3 tests/ccusage/compare.py --bin PATH/agent-strace --ccusage PATH/ccusage \
        --corpus ../shared/corpus/claude-code

The corpus holds `<project>/<file>.jsonl` main transcripts, each with an optional
`<project>/<stem>/subagents/` folder. This script lays them out as Claude Code does
(`<tmp>/projects/<project>/<file>.jsonl`, the subagents folder alongside), then:

* runs `ccusage claude session --json --offline` with CLAUDE_CONFIG_DIR=<tmp>. ccusage (20.0.24)
  names a session after the file stem (`sessionId`) and its project folder (`projectPath`), and
  folds the `<stem>/subagents/*.jsonl` files into that session. (The agent-neutral
  `ccusage session` would also report other agents' logs and drops `projectPath`, so the
  Claude-only subcommand is used.)
* runs `agent-strace --trace-dir <tmp2> import --format json <every main file>`, which prints one
  report per imported file (a main file, then its subagents), and sums each main file's tokens
  with its subagents'.

It prints a table and exits 0 only if every session ccusage reports equals ours on input, output,
cache-creation and cache-read tokens, and at least MIN_SESSIONS sessions were compared; else 1.
Standard library only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

MIN_SESSIONS = 10

# (our name in `tokens`, ccusage's name, column label)
KINDS = [
    ("input", "inputTokens", "input"),
    ("output", "outputTokens", "output"),
    ("cache_creation", "cacheCreationTokens", "cache write"),
    ("cache_read", "cacheReadTokens", "cache read"),
]


def fail(message):
    print(f"compare.py: {message}", file=sys.stderr)
    sys.exit(1)


def main_files(corpus):
    """Every main transcript: `<corpus>/<project>/<file>.jsonl`, sorted."""
    files = []
    for project in sorted(p for p in corpus.iterdir() if p.is_dir()):
        files.extend(sorted(f for f in project.iterdir() if f.is_file() and f.suffix == ".jsonl"))
    return files


def lay_out(corpus, root):
    """Copies the corpus into `<root>/projects/…`; returns {(project, stem): copied main file}."""
    layout = {}
    for src in main_files(corpus):
        project = src.parent.name
        dest_dir = root / "projects" / project
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / src.name
        shutil.copyfile(src, dest)
        subagents = src.parent / src.stem / "subagents"
        if subagents.is_dir():
            shutil.copytree(subagents, dest_dir / src.stem / "subagents")
        layout[(project, src.stem)] = dest
    return layout


def clean_env(home):
    env = dict(os.environ)
    unset = ("AGENT_TRACE_DIR", "CLAUDE_PROJECT_DIR", "AGENT_STRACE_REDACT", "CLAUDE_CONFIG_DIR")
    for name in unset:
        env.pop(name, None)
    # Neither program may see the real ~/.claude (or any other agent's logs in $HOME).
    env["HOME"] = str(home)
    env["NO_COLOR"] = "1"
    env["TZ"] = "UTC"
    return env


def run(cmd, env, cwd):
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    except OSError as e:
        fail(f"cannot run {cmd[0]}: {e}")
    except subprocess.TimeoutExpired:
        fail(f"timed out: {' '.join(cmd)}")
    if proc.returncode != 0:
        fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
    return proc.stdout


def ccusage_sessions(ccusage, root, home):
    env = clean_env(home)
    env["CLAUDE_CONFIG_DIR"] = str(root)
    out = run([ccusage, "claude", "session", "--json", "--offline"], env, cwd=home)
    try:
        data = json.loads(out)
    except json.JSONDecodeError as e:
        fail(f"ccusage did not print JSON ({e}):\n{out[:2000]}")
    sessions = {}
    for s in data.get("sessions", []):
        key = (s.get("projectPath"), s.get("sessionId"))
        if key in sessions:
            fail(f"ccusage reported session {key} twice")
        sessions[key] = {ours: int(s.get(theirs, 0)) for ours, theirs, _ in KINDS}
    return sessions


def json_values(text):
    """One JSON array of reports, or reports printed one after another."""
    text = text.strip()
    decoder = json.JSONDecoder()
    values, i = [], 0
    while i < len(text):
        value, end = decoder.raw_decode(text, i)
        values.extend(value if isinstance(value, list) else [value])
        i = end
        while i < len(text) and text[i].isspace():
            i += 1
    return values


def our_sessions(binary, root, layout, home):
    store = home / "traces"
    files = [str(p) for p in layout.values()]
    out = run(
        [binary, "--trace-dir", str(store), "import", "--format", "json", *files],
        clean_env(home),
        cwd=home,
    )
    try:
        reports = json_values(out)
    except json.JSONDecodeError as e:
        fail(f"agent-strace import did not print JSON ({e}):\n{out[:2000]}")
    projects = root / "projects"
    sessions, main_id, current = {}, {}, None
    for r in reports:
        if r.get("status") != "imported":
            fail(f"{r.get('file')}: status {r.get('status')!r}, expected 'imported'")
        rel = Path(r["file"]).resolve().relative_to(projects.resolve())
        parts = rel.parts
        if len(parts) == 2:  # <project>/<file>.jsonl: a main file
            current = (parts[0], Path(parts[1]).stem)
            main_id[current] = r["session_id"]
        elif len(parts) == 4 and parts[2] == "subagents":  # <project>/<stem>/subagents/<a>.jsonl
            owner = (parts[0], parts[1])
            if owner != current:
                fail(f"subagent report {rel} does not follow its main file's report")
            if not r["session_id"].endswith("-" + main_id[owner]):
                fail(f"subagent {rel} has session_id {r['session_id']}, not under {main_id[owner]}")
        else:
            fail(f"report for an unexpected file: {rel}")
        totals = sessions.setdefault(current, {ours: 0 for ours, _, _ in KINDS})
        for ours, _, _ in KINDS:
            totals[ours] += int(r["tokens"][ours])
    missing = sorted(set(layout) - set(sessions))
    if missing:
        fail(f"agent-strace printed no report for {missing}")
    return sessions


def figures(t):
    return " / ".join(str(t[ours]) for ours, _, _ in KINDS)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the agent-strace executable")
    parser.add_argument("--ccusage", required=True, help="the ccusage executable")
    parser.add_argument("--corpus", required=True, help="folder of <project>/<file>.jsonl files")
    args = parser.parse_args()

    corpus = Path(args.corpus)
    if not corpus.is_dir():
        fail(f"no corpus at {corpus}")
    for name, path in (("--bin", args.bin), ("--ccusage", args.ccusage)):
        if not os.access(path, os.X_OK):
            fail(f"{name} {path} is not an executable file")

    with tempfile.TemporaryDirectory(prefix="ccusage-crosscheck-") as tmp:
        root = Path(tmp) / "claude"
        home = Path(tmp) / "home"
        home.mkdir()
        layout = lay_out(corpus, root)
        if not layout:
            fail(f"no transcripts under {corpus}")
        theirs = ccusage_sessions(str(Path(args.ccusage).resolve()), root, home)
        ours = our_sessions(str(Path(args.bin).resolve()), root, layout, home)

    print("tokens: input / output / cache write / cache read")
    rows = [("session", "ours", "ccusage", "match")]
    differences = []
    for key in sorted(theirs, key=lambda k: (str(k[0]), str(k[1]))):
        name = f"{key[0]}/{key[1]}"
        mine = ours.get(key)
        if mine is None:
            rows.append((name, "-", figures(theirs[key]), "NO"))
            differences.append(f"{name}: ccusage reports it, agent-strace has no such session")
            continue
        wrong = [
            f"{label} ours {mine[o]} ccusage {theirs[key][o]} (diff {mine[o] - theirs[key][o]:+d})"
            for o, _, label in KINDS
            if mine[o] != theirs[key][o]
        ]
        rows.append((name, figures(mine), figures(theirs[key]), "NO" if wrong else "yes"))
        differences.extend(f"{name}: {w}" for w in wrong)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())

    for key in sorted(set(ours) - set(theirs)):
        name = f"{key[0]}/{key[1]}"
        if any(ours[key].values()):
            differences.append(
                f"{name}: agent-strace counts {figures(ours[key])}, ccusage reports no such session"
            )
        else:
            # ccusage leaves out a session with no usage at all; that is no disagreement.
            print(f"note: {name} has no tokens and is not in ccusage's report")

    compared = len(theirs)
    if differences:
        print(f"\n{len(differences)} difference(s):")
        for d in differences:
            print(f"  {d}")
    if compared < MIN_SESSIONS:
        print(f"\nonly {compared} session(s) compared; at least {MIN_SESSIONS} are needed")
    if differences or compared < MIN_SESSIONS:
        print(f"\nFAIL: {compared} sessions compared")
        return 1
    print(f"\nOK: {compared} sessions compared, all equal on all four kinds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
