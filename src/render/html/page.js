// agent-strace's HTML replay: reads the page model (src/analysis/page.rs) from the JSON block
// and shows it. Everything a session recorded reaches the DOM through textContent or a
// property that takes plain text, never as markup; links are made only for http(s) URLs.
'use strict';
(function () {
  performance.mark('agent-strace:start');
  const $ = (id) => document.getElementById(id);
  // A character that reorders a line (a bidi override), draws nothing or drives a terminal
  // shows as its escape, \u202e, as every other view shows it (src/model/text.rs's
  // is_hostile): report\u202efdp.exe read reportexe.pdf; one beyond U+FFFF (a tag character,
  // which hides text) as its two UTF-16 halves, \udb40\udc41. A Windows line end stays one,
  // and a subdivision flag (its black flag, two to six tag letters and the cancel tag) too.
  // A joiner or selector shows escaped where the character before cannot take it (is_hidden_after):
  // a joiner after ASCII or first, a selector after a selector, after ASCII but a keycap's
  // digit, # or * or first, a Mongolian one after anything but a Mongolian letter.
  const HIDDEN = /\u{1F3F4}[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{2,6}\u{E007F}|\r(?!\n)|(?<=^|[\0-\x7f])[\u200c\u200d]|(?<=^|[\0-\x22\x24-\x29\x2b-\x2f\x3a-\x7f\ufe00-\ufe0f\u{e0100}-\u{e01ef}])[\ufe00-\ufe0f]|(?<![\u1820-\u18aa])[\u180b-\u180d\u180f]|[\0-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff0-\ufffb\u{110bd}\u{110cd}\u{13430}-\u{1343f}\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/gu;
  const shown = (text) => String(text).replace(HIDDEN, (c) => c.startsWith('\u{1F3F4}') ? c
    : Array.from({ length: c.length }, (_, i) => '\\u' + c.charCodeAt(i).toString(16).padStart(4, '0')).join(''));
  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = shown(text);
    return node;
  };
  const page = JSON.parse($('page-data').textContent);
  performance.mark('agent-strace:parsed');

  // The line layout of page.rs's PageLine.
  const S = 0, N = 1, T = 2, K = 3, TOOL = 4, NAME = 5, DETAIL = 6, DK = 7, DUR = 8, EV = 9;
  const KINDS = ['session_start', 'session_end', 'prompt', 'interrupted', 'note', 'answer',
    'thinking', 'compaction', 'tool_call', 'tool_result', 'error', 'rejected', 'file_read',
    'file_write', 'llm_request', 'llm_response', 'decision', 'subagent', 'other'];
  const KIND_LABEL = { session_start: 'start', session_end: 'end', tool_call: 'call',
    tool_result: 'result', file_read: 'read', file_write: 'write', llm_request: 'request',
    llm_response: 'response' };
  const lines = page.lines;
  const sessions = page.sessions;
  const storage = (() => {
    try {
      const probe = '__agent_strace_probe__';
      window.localStorage.setItem(probe, '1');
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null;
    }
  })();
  const memory = new Map();
  const store = {
    get: (k) => (storage ? storage.getItem(k) : memory.has(k) ? memory.get(k) : null),
    set: (k, v) => (storage ? storage.setItem(k, v) : memory.set(k, v)),
  };
  const rootId = sessions.length ? sessions[0].id : '';

  // ---- formatting ----
  const clock = (ms) => {
    const neg = ms < 0;
    let s = Math.abs(ms) / 1000;
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    const ss = s < 10 ? '0' + s.toFixed(1) : s.toFixed(1);
    return (neg ? '-' : '') + (h ? h + ':' + String(m).padStart(2, '0') : m) + ':' + ss;
  };
  const money = (usd) => '$' + (usd >= 100 ? usd.toFixed(2) : usd.toFixed(4));
  const dur = (ms) => (ms >= 1000 ? (ms / 1000).toFixed(1) + 's' : Math.round(ms) + 'ms');
  const safeHref = (text) => {
    if (typeof text !== 'string' || !/^https?:\/\/\S+$/i.test(text)) return null;
    try {
      const url = new URL(text);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
    }
  };

  // ---- header and summary ----
  const h = page.header;
  $('page-kind').textContent = page.kind === 'share' ? 'shared session' : 'replay';
  // The agent's title for the session, else what the person first asked, else its command.
  const firstPrompt = page.lines.find((l) => l[K] === 'prompt' && l[DETAIL]);
  const title = h.title || (firstPrompt && firstPrompt[DETAIL]) || h.command || h.session_id;
  $('title').textContent = shown(title);
  document.title = (page.kind === 'share' ? 'Shared: ' : 'Replay: ') + shown(title);
  const facts = $('facts');
  const fact = (label, value) => {
    if (value === null || value === undefined || value === '') return;
    const d = el('div');
    d.append(el('dt', null, label), el('dd', null, value));
    facts.append(d);
  };
  fact('session', h.session_id);
  fact('agent', h.agent + (h.agent_version ? ' ' + h.agent_version : ''));
  // A start, duration or count no session can have (a damaged or forged meta.json) is null:
  // shown as ?, as every view shows it.
  const known = (value, show) => (value === null ? '?' : show(value));
  fact('started', known(h.started_at, (t) => new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'));
  fact('duration', h.running ? 'running' : known(h.duration_s, (d) => clock(d * 1000)));
  fact('models', h.models.join(', '));
  // A cost that counts a model with no known price at $0 is marked, as the terminal marks it,
  // and one that leaves out responses of unknown usage, as `list` and `cost` mark it.
  const unpriced = h.cost_unpriced_models.length ? '?' : '';
  const marked = unpriced || (h.cost_unbelieved_usage ? '?' : '');
  if (h.cost_usd !== null) {
    fact('cost', money(h.cost_usd) + marked + (h.cost_partly_estimated ? ' (partly estimated)' : h.cost_estimated ? ' (estimated)' : '')
      + (unpriced ? ' (' + h.cost_unpriced_models.join(', ') + ' counted at $0: no known price)' : ''));
  }
  fact('tool calls', known(h.tool_calls, String));
  // The turn's errors (an API error that ended it) are no tool's: said apart, as the terminal does.
  const turnErrors = h.errors !== null && h.tool_errors !== null ? h.errors - h.tool_errors : 0;
  fact('errors', known(h.errors, String)
    + (turnErrors > 0 ? ' (' + h.tool_errors + ' of tools, ' + turnErrors + ' of the turn)' : ''));
  if (h.rejections) fact('rejected', h.rejections);
  if (sessions.length > 1) fact('subagents', sessions.length - 1);
  fact('cwd', h.cwd);
  fact('branch', h.git_branch);
  if (page.redacted) fact('secrets', 'redacted');
  if (page.anonymized) fact('names', 'anonymised');
  // What the cost leaves out (page.rs's cost_notes), under the facts of either page.
  if (page.cost_notes.length) {
    const notes = el('div');
    notes.id = 'cost-notes';
    for (const note of page.cost_notes) notes.append(el('div', 'hint', note));
    facts.after(notes);
  }

  if (page.summary) {
    const sum = page.summary;
    const box = $('summary');
    box.hidden = false;
    const part = (name) => {
      const d = el('div');
      d.append(el('h2', null, name));
      box.append(d);
      return d;
    };
    const out = part('Outcome');
    const v = el('span', 'verdict ' + sum.outcome.verdict, sum.outcome.verdict);
    v.id = 'verdict';
    out.append(v);
    if (sum.outcome.by) out.append(el('div', 'mono', sum.outcome.by));
    if (sum.outcome.note) out.append(el('div', 'hint', sum.outcome.note));
    if (sum.outcome.running) out.append(el('div', 'hint', 'still running when this page was made'));
    // The turn's errors (an API error that ended it) are no tool's: said apart, as the header does.
    const ofTheTurn = sum.turn_errors > 0 ? ' (' + sum.turn_errors + ' of the turn)' : '';
    out.append(el('div', null, sum.tool_calls + ' tool calls, ' + sum.errors + ' errors' + ofTheTurn + ', '
      + sum.rejections + ' rejected, ' + sum.retries + ' retries'));
    const cost = part('Cost');
    if (sum.cost) {
      cost.append(el('div', null, money(sum.cost.total_usd) + marked + (sum.cost.estimated ? ' (estimated)' : '')
        + (sum.cost.wasted_usd > 0 ? ', ' + money(sum.cost.wasted_usd) + ' on failed phases' : '')));
      const ul = el('ul');
      for (const [model, usd] of sum.cost.models) {
        const none = sum.cost.unpriced_models.includes(model) ? '? (no known price)' : '';
        ul.append(el('li', null, model + ': ' + money(usd) + none));
      }
      cost.append(ul);
      if (sum.cost.unpriced_models.length) {
        const names = sum.cost.unpriced_models.join(', ');
        cost.append(el('div', 'hint', '? ' + (sum.cost.unpriced_models.length === 1
          ? 'a model with no known price (' + names + ') is counted at $0'
          : 'models with no known price (' + names + ') are counted at $0')));
      }
    } else {
      cost.append(el('div', 'hint', 'not priced'));
    }
    const files = part('Files changed (' + sum.files_changed.length + ')');
    const fl = el('ul', 'mono');
    fl.id = 'files-changed';
    for (const f of sum.files_changed) fl.append(el('li', null, f));
    files.append(fl);
    const phases = part('What happened');
    const pl = el('ol');
    pl.id = 'phases';
    for (const p of sum.phases) {
      const li = el('li', null, p.label + ' (' + clock(p.start_s * 1000) + '–' + clock(p.end_s * 1000) + ')'
        + (p.failed ? ' — failed' : ''));
      // The first four commands, and how many more, as explain lists a phase's.
      const more = p.ran.length > 4 ? ' · … and ' + (p.ran.length - 4) + ' more' : '';
      if (p.ran.length) li.append(el('div', 'hint mono', p.ran.slice(0, 4).join(' · ') + more));
      pl.append(li);
    }
    phases.append(pl);
  }

  // ---- derived data ----
  const n = lines.length;
  let total = 0;
  for (let i = 0; i < n; i++) if (lines[i][T] > total) total = lines[i][T];
  // Line indexes in time order (ties in list order), for "what is shown at time t".
  const byTime = new Uint32Array(n);
  for (let i = 0; i < n; i++) byTime[i] = i;
  byTime.sort((a, b) => lines[a][T] - lines[b][T] || a - b);
  const spend = page.spend;
  const spent = new Float64Array(spend.length + 1);
  for (let i = 0; i < spend.length; i++) spent[i + 1] = spent[i] + spend[i][1];
  const costAt = (ms) => {
    let lo = 0, hi = spend.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (spend[mid][0] <= ms) lo = mid + 1; else hi = mid;
    }
    return spent[lo];
  };
  // The call line each subagent session hangs under (the line right before its first line).
  const spawnedBy = new Int32Array(sessions.length).fill(-1);
  const children = new Map();
  for (let i = 1; i < n; i++) {
    const s = lines[i][S];
    if (s !== lines[i - 1][S] && spawnedBy[s] === -1 && sessions[s].parent === lines[i - 1][S]) {
      spawnedBy[s] = i - 1;
      if (!children.has(i - 1)) children.set(i - 1, []);
      children.get(i - 1).push(s);
    }
  }
  const eventCount = lines.reduce((sum, l) => sum + l[EV].length, 0);
  const list = $('list');
  list.dataset.lines = String(n);
  list.dataset.events = String(eventCount);

  // ---- state ----
  let now = total;
  let playing = false;
  let selected = -1;
  const expanded = new Set();
  const collapsed = new Set();
  const heights = new Map();
  let visible = new Uint32Array(0);
  let position = new Int32Array(n).fill(-1);
  let offsets = new Float64Array(1);
  const ROW = 25;
  // How many levels of subagents the rows indent by (32, as `replay --tree` in a terminal).
  const MAX_INDENT = 32;
  const hiddenKinds = new Set();
  let toolFilter = '';
  let query = '';
  let haystacks = null;
  const bookmarkKey = 'agent-strace:bookmarks:' + rootId;
  let bookmarks = new Set();
  try {
    bookmarks = new Set(JSON.parse(store.get(bookmarkKey) || '[]').filter((x) => Number.isInteger(x)));
  } catch (e) {
    bookmarks = new Set();
  }
  $('storage').textContent = storage
    ? 'Bookmarks are kept in this browser (localStorage).'
    : 'Bookmarks last until the page is closed (this browser keeps no storage for files).';

  const isHiddenSession = (s) => {
    for (let cur = s; cur !== null && cur !== undefined && cur > 0; cur = sessions[cur].parent) {
      if (collapsed.has(cur)) return true;
    }
    return false;
  };
  const haystack = (i) => {
    if (!haystacks) haystacks = new Array(n);
    let text = haystacks[i];
    if (text === undefined) {
      const l = lines[i];
      text = [l[K], l[TOOL] === null ? '' : page.tools[l[TOOL]], l[NAME] || '', l[DETAIL] || '',
        sessions[l[S]].id, ...l[EV].map((e) => e[1] + ' ' + JSON.stringify(e[3]))].join('\n').toLowerCase();
      haystacks[i] = text;
    }
    return text;
  };

  function computeVisible() {
    const out = [];
    const toolIndex = toolFilter === '' ? -1 : Number(toolFilter);
    for (let i = 0; i < n; i++) {
      const l = lines[i];
      if (hiddenKinds.has(l[K])) continue;
      if (toolIndex >= 0 && l[TOOL] !== toolIndex) continue;
      if (l[S] > 0 && collapsed.size && isHiddenSession(l[S])) continue;
      if (query && !haystack(i).includes(query)) continue;
      out.push(i);
    }
    visible = Uint32Array.from(out);
    position = new Int32Array(n).fill(-1);
    for (let v = 0; v < visible.length; v++) position[visible[v]] = v;
    computeOffsets();
    list.dataset.shown = String(visible.length);
    $('count').textContent = visible.length + ' of ' + n + ' lines · ' + eventCount + ' events';
  }
  function computeOffsets() {
    offsets = new Float64Array(visible.length + 1);
    for (let v = 0; v < visible.length; v++) {
      const i = visible[v];
      offsets[v + 1] = offsets[v] + (expanded.has(i) ? heights.get(i) || ROW : ROW);
    }
    $('spacer').style.height = offsets[visible.length] + 'px';
  }
  const firstAt = (y) => {
    let lo = 0, hi = visible.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid + 1] <= y) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  // The line shown at `now`: the last line in time order at or before it.
  const currentPos = () => {
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (lines[byTime[mid]][T] <= now) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
  };
  const currentLine = () => {
    const pos = currentPos();
    return pos >= 0 ? byTime[pos] : -1;
  };

  function detailBody(i) {
    const l = lines[i];
    const body = el('div', 'body');
    body.addEventListener('click', (e) => e.stopPropagation());
    body.append(el('div', 'hint', 'session ' + sessions[l[S]].id + (sessions[l[S]].depth ? ' (subagent, depth '
      + sessions[l[S]].depth + ')' : '') + ' · event #' + l[N]));
    const links = [];
    const collect = (v) => {
      if (typeof v === 'string') {
        const href = safeHref(v);
        if (href) links.push(href);
      } else if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') Object.values(v).forEach(collect);
    };
    for (const e of l[EV]) {
      body.append(el('h3', null, '#' + e[0] + ' ' + e[1] + ' at ' + clock(e[2])));
      const pre = el('pre', 'json', JSON.stringify(e[3], null, 2));
      body.append(pre);
      collect(e[3]);
    }
    if (links.length) {
      const p = el('p', null, 'Links: ');
      for (const href of links.slice(0, 20)) {
        const a = el('a', null, href);
        a.href = href;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        p.append(a, ' ');
      }
      body.append(p);
    }
    return body;
  }

  function rowFor(i, v) {
    const l = lines[i];
    const kind = KINDS.includes(l[K]) ? l[K] : 'other';
    const row = el('div', 'row k-' + kind);
    row.dataset.line = String(i);
    if (l[S] > 0) row.classList.add('sub');
    row.style.top = offsets[v] + 'px';
    const head = el('div', 'head');
    // The indent stops at MAX_INDENT levels, as the terminal's tree does: a chain of thousands
    // of subagents pushed its deepest rows tens of thousands of pixels off the page.
    head.style.paddingLeft = (Math.min(sessions[l[S]].depth, MAX_INDENT) * 18) + 'px';
    const tog = el('span', 'tog', children.has(i) ? (children.get(i).some((s) => collapsed.has(s)) ? '▸' : '▾') : '');
    if (children.has(i)) {
      tog.title = 'Show or hide the subagent';
      tog.addEventListener('click', (e) => {
        e.stopPropagation();
        for (const s of children.get(i)) if (collapsed.has(s)) collapsed.delete(s); else collapsed.add(s);
        refresh();
      });
    }
    head.append(tog, el('span', 't', clock(l[T])), el('span', 'kind', KIND_LABEL[kind] || kind.replace('_', ' ')));
    if (l[TOOL] !== null) head.append(el('span', 'tool', page.tools[l[TOOL]]));
    // An interrupt's name is who sent it: `interrupted by the user`, as the terminal says.
    if (l[NAME]) head.append(el('span', 'tool', kind === 'interrupted' ? 'by ' + l[NAME] : l[NAME]));
    const dk = typeof l[DK] === 'string' ? l[DK] : 'text';
    head.append(el('span', 'detail d-' + dk, l[DETAIL] || ''));
    if (l[DUR] !== null) head.append(el('span', 'dur', dur(l[DUR])));
    if (bookmarks.has(i)) head.append(el('span', 'mark', '★'));
    row.append(head);
    if (expanded.has(i)) row.append(detailBody(i));
    row.addEventListener('click', () => {
      select(i, false);
      toggle(i);
    });
    return row;
  }

  // Rows in the DOM by line, with what their content was built from: a row is rebuilt only
  // when its content changes, so that a click is never lost to a row replaced under the mouse
  // (the player re-renders every frame).
  let rendered = new Map();
  let order = '';
  function render() {
    const spacer = $('spacer');
    const top = list.scrollTop;
    const bottom = top + list.clientHeight;
    const from = Math.max(0, firstAt(top) - 5);
    let to = from;
    while (to < visible.length && offsets[to] < bottom + ROW * 5) to++;
    const current = currentLine();
    const next = new Map();
    for (let v = from; v < to; v++) {
      const i = visible[v];
      const content = (expanded.has(i) ? 'e' : '') + (bookmarks.has(i) ? 'b' : '')
        + (children.has(i) && children.get(i).some((s) => collapsed.has(s)) ? 'c' : '');
      let entry = rendered.get(i);
      if (!entry || entry.content !== content) entry = { row: rowFor(i, v), content, fresh: true };
      const row = entry.row;
      row.style.top = offsets[v] + 'px';
      row.classList.toggle('future', lines[i][T] > now);
      row.classList.toggle('now', i === current);
      row.classList.toggle('sel', i === selected);
      next.set(i, entry);
    }
    const signature = [...next.keys()].join(',');
    if (signature !== order || [...next.values()].some((e) => e.fresh)) {
      spacer.replaceChildren(...[...next.values()].map((e) => e.row));
    }
    let remeasure = false;
    for (const [i, entry] of next) {
      entry.fresh = false;
      if (expanded.has(i)) {
        const hgt = entry.row.offsetHeight;
        if (Math.abs((heights.get(i) || ROW) - hgt) > 1) {
          heights.set(i, hgt);
          remeasure = true;
        }
      }
    }
    rendered = next;
    order = signature;
    if (remeasure) {
      computeOffsets();
      for (const [i, entry] of rendered) entry.row.style.top = offsets[position[i]] + 'px';
    }
  }
  let frame = 0;
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); });
  };
  list.addEventListener('scroll', schedule, { passive: true });
  window.addEventListener('resize', () => { drawTicks(); schedule(); });

  function refresh() {
    computeVisible();
    render();
  }
  function scrollToLine(i) {
    const v = position[i];
    if (v < 0) return;
    const top = offsets[v], bottom = offsets[v + 1];
    if (top < list.scrollTop) list.scrollTop = top;
    else if (bottom > list.scrollTop + list.clientHeight) list.scrollTop = bottom - list.clientHeight;
  }
  function select(i, move) {
    selected = i;
    if (move) {
      setTime(lines[i][T]);
      scrollToLine(i);
    }
    render();
  }
  function toggle(i) {
    if (expanded.has(i)) expanded.delete(i); else expanded.add(i);
    computeOffsets();
    render();
    scrollToLine(i);
  }

  // ---- time, player, timeline ----
  const scrubber = $('scrubber');
  scrubber.max = String(total);
  function setTime(ms) {
    now = Math.max(0, Math.min(total, ms));
    scrubber.value = String(now);
    $('clock').textContent = clock(now) + ' / ' + clock(total);
    $('cost').textContent = spend.length ? money(costAt(now)) + marked : '';
    const pct = total > 0 ? now / total : 1;
    $('playhead').style.left = 'calc(' + (pct * 100) + '% - 1px)';
  }
  scrubber.addEventListener('input', () => {
    setTime(Number(scrubber.value));
    const c = currentLine();
    if (c >= 0) scrollToLine(c);
    render();
  });
  function drawTicks() {
    const canvas = $('ticks');
    const width = canvas.clientWidth || 800;
    canvas.width = width;
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, width, 28);
    const style = getComputedStyle(document.documentElement);
    const colour = {};
    for (const k of KINDS) {
      const v = k.startsWith('tool_call') ? '--k-tool' : k === 'tool_result' ? '--k-result'
        : k === 'error' ? '--k-error' : k === 'rejected' ? '--k-rejected'
          : k.startsWith('file') ? '--k-file' : k.startsWith('llm') ? '--k-llm'
            : k === 'prompt' || k === 'interrupted' ? '--k-prompt' : k === 'answer' ? '--k-answer'
              : k === 'subagent' ? '--k-sub' : '--k-meta';
      colour[k] = style.getPropertyValue(v).trim() || '#888';
    }
    const lane = { prompt: 0, answer: 0, interrupted: 0, error: 1, rejected: 1, tool_call: 2, file_read: 2,
      file_write: 2, tool_result: 2, llm_response: 3, llm_request: 3 };
    ctx.globalAlpha = 0.7;
    for (let i = 0; i < n; i++) {
      const l = lines[i];
      const x = total > 0 ? Math.floor((l[T] / total) * (width - 1)) : 0;
      const y = (lane[l[K]] ?? 3) * 7;
      ctx.fillStyle = colour[l[K]] || '#888';
      ctx.fillRect(x, y, 1, 6);
    }
  }
  $('timeline').addEventListener('click', (e) => {
    const box = $('timeline').getBoundingClientRect();
    setTime(((e.clientX - box.left) / box.width) * total);
    const c = currentLine();
    if (c >= 0) scrollToLine(c);
    render();
  });
  let last = 0;
  function tick(ts) {
    if (!playing) return;
    const elapsed = last ? ts - last : 0;
    last = ts;
    const speed = Number($('speed').value) || 1;
    // Long idle stretches are skipped: time never stands still for more than two seconds.
    const pos = currentPos();
    const nextAt = pos + 1 < n ? lines[byTime[pos + 1]][T] : total;
    let target = now + elapsed * speed;
    if (nextAt - now > 2000 * speed && target < nextAt) target = Math.max(target, nextAt - 2000 * speed);
    if (target >= total) {
      setTime(total);
      pause();
    } else {
      setTime(target);
    }
    const cur = currentLine();
    if (cur >= 0) scrollToLine(cur);
    render();
    if (playing) requestAnimationFrame(tick);
  }
  function play() {
    if (now >= total) setTime(0);
    playing = true;
    last = 0;
    $('play').textContent = '❚❚ pause';
    requestAnimationFrame(tick);
  }
  function pause() {
    playing = false;
    $('play').textContent = '▶ play';
  }
  $('play').addEventListener('click', () => (playing ? pause() : play()));

  // ---- filters and search ----
  const kindCounts = new Map();
  const toolCounts = new Map();
  for (const l of lines) {
    kindCounts.set(l[K], (kindCounts.get(l[K]) || 0) + 1);
    if (l[TOOL] !== null) toolCounts.set(l[TOOL], (toolCounts.get(l[TOOL]) || 0) + 1);
  }
  const kinds = $('kinds');
  for (const k of KINDS) {
    if (!kindCounts.has(k)) continue;
    const label = el('label');
    const box = el('input');
    box.type = 'checkbox';
    box.checked = true;
    box.value = k;
    box.addEventListener('change', () => {
      if (box.checked) hiddenKinds.delete(k); else hiddenKinds.add(k);
      refresh();
    });
    label.append(box, ' ' + (KIND_LABEL[k] || k.replace('_', ' ')) + ' ' + kindCounts.get(k));
    label.className = 'k-' + k;
    kinds.append(label);
  }
  const toolSelect = $('tool');
  [...toolCounts.keys()].sort((a, b) => page.tools[a].localeCompare(page.tools[b])).forEach((t) => {
    const opt = el('option', null, page.tools[t] + ' (' + toolCounts.get(t) + ')');
    opt.value = String(t);
    toolSelect.append(opt);
  });
  toolSelect.addEventListener('change', () => {
    toolFilter = toolSelect.value;
    refresh();
  });
  let searchTimer = 0;
  $('search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      query = $('search').value.trim().toLowerCase();
      refresh();
    }, 120);
  });

  // ---- annotations and bookmarks ----
  // Lines by session and event number, for the annotations (only when there are some).
  const lineOf = new Map();
  if (page.annotations.length) {
    for (let i = 0; i < n; i++) {
      for (const e of lines[i][EV]) lineOf.set(lines[i][S] + ':' + e[0], i);
    }
  }
  const jump = (i) => {
    if (i < 0) return;
    if (position[i] < 0) {
      hiddenKinds.clear();
      kinds.querySelectorAll('input').forEach((b) => { b.checked = true; });
      toolFilter = '';
      toolSelect.value = '';
      query = '';
      $('search').value = '';
      collapsed.clear();
      computeVisible();
    }
    select(i, true);
    list.focus();
  };
  const notes = $('annotations');
  if (!page.annotations.length) notes.append(el('li', 'hint', 'none'));
  for (const a of page.annotations) {
    const target = a.number === null ? -1 : lineOf.get(a.session + ':' + a.number) ?? -1;
    const li = el('li', null, (a.bookmark ? '★ ' : '') + clock(a.offset_ms) + ' ' + (a.label ? '[' + a.label + '] ' : '') + a.note);
    if (a.author) li.append(el('span', 'hint', ' — ' + a.author));
    li.addEventListener('click', () => {
      if (target >= 0) jump(target); else setTime(a.offset_ms);
    });
    notes.append(li);
  }
  function drawBookmarks() {
    const ul = $('bookmarks');
    ul.replaceChildren();
    const sorted = [...bookmarks].filter((i) => i < n).sort((a, b) => a - b);
    if (!sorted.length) ul.append(el('li', 'hint', 'none: press b on a line'));
    for (const i of sorted) {
      const l = lines[i];
      const li = el('li', null, clock(l[T]) + ' #' + l[N] + ' ' + (l[DETAIL] || l[K]).slice(0, 60));
      li.dataset.line = String(i);
      li.addEventListener('click', () => jump(i));
      ul.append(li);
    }
  }
  function toggleBookmark(i) {
    if (i < 0) return;
    if (bookmarks.has(i)) bookmarks.delete(i); else bookmarks.add(i);
    store.set(bookmarkKey, JSON.stringify([...bookmarks]));
    drawBookmarks();
    render();
  }

  // ---- theme ----
  const themeKey = 'agent-strace:theme';
  const prefersDark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  let ticksDrawn = false;
  const applyTheme = (theme) => {
    document.documentElement.dataset.theme = theme;
    if (ticksDrawn) drawTicks();
  };
  applyTheme(store.get(themeKey) === 'dark' || store.get(themeKey) === 'light' ? store.get(themeKey) : prefersDark ? 'dark' : 'light');
  const toggleTheme = () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    store.set(themeKey, next);
    applyTheme(next);
  };
  $('theme').addEventListener('click', toggleTheme);

  // ---- keyboard ----
  document.addEventListener('keydown', (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
    if (e.key === 'Escape') {
      if (typing) e.target.blur();
      if (query) {
        $('search').value = '';
        query = '';
        refresh();
      }
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const step = (d) => {
      if (!visible.length) return;
      const v = selected >= 0 && position[selected] >= 0 ? position[selected] + d : d > 0 ? 0 : visible.length - 1;
      select(visible[Math.max(0, Math.min(visible.length - 1, v))], true);
    };
    switch (e.key) {
      case 'j': case 'ArrowDown': step(1); break;
      case 'k': case 'ArrowUp': step(-1); break;
      case 'Enter': if (selected >= 0) toggle(selected); break;
      case ' ': if (playing) pause(); else play(); break;
      case '/': $('search').focus(); break;
      case 'b': toggleBookmark(selected); break;
      case 't': toggleTheme(); break;
      case 'Home': if (visible.length) select(visible[0], true); break;
      case 'End': if (visible.length) select(visible[visible.length - 1], true); break;
      default: return;
    }
    e.preventDefault();
  });

  // ---- first paint ----
  computeVisible();
  setTime(total);
  drawBookmarks();
  render();
  performance.mark('agent-strace:rendered');
  requestAnimationFrame(() => {
    performance.mark('agent-strace:first-paint');
    // The timeline's ticks (one per line) come right after the first paint.
    setTimeout(() => {
      ticksDrawn = true;
      drawTicks();
      performance.mark('agent-strace:timeline');
      document.documentElement.dataset.ready = '1';
    }, 0);
  });
})();
