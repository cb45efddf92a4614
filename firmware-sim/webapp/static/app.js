// The campus climate app: one websocket to zedge (Zaqar v2 websocket protocol), no framework, no build step.
//
// Frames out: {"action", "headers": {"Client-ID", "X-Project-ID", ...}, "body"}. Frames in: either the answer
// to the oldest request still waiting (it has "request" and "headers.status"; answers come one per request,
// in request order) or a pushed notification {"body", "ttl", "queue_name", "Message_Type": "Notification"}
// from a socket subscription.
'use strict';

(() => {
  const TELEMETRY_QUEUE = 'telemetry-devices';
  const RESULTS_QUEUE = 'cmd-results';
  const SUBSCRIPTION_TTL = 7 * 24 * 3600; // socket subscriptions end with the socket anyway
  const COMMAND_TTL = 300;
  const CHART_WINDOW_MS = 10 * 60 * 1000;
  const MAX_POINTS = 600;
  const POLL_MS = 500;
  const SETPOINT_MIN = 10, SETPOINT_MAX = 35;

  const state = {
    cfg: null,
    clientID: null,
    ws: null,
    pending: [],          // answers awaited, oldest first: {action, resolve, reject}
    offices: new Map(),   // office id -> office view state
    devices: new Map(),   // device id -> office id
    commands: new Map(),  // command message id -> command
    earlyResults: new Map(), // results seen before their post was answered: id -> record
    live: 0,
    retry: 0,
    built: false,
  };

  // ---- helpers ------------------------------------------------------------------------------------------

  const $ = (sel, root = document) => root.querySelector(sel);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  // uuid4 without crypto.randomUUID, which browsers offer only in secure contexts (not on http://lan-ip).
  function uuid4() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const fmt = (v, digits = 1) => (v == null ? '–' : v.toFixed(digits));

  function timeOf(s, fallback) {
    const t = typeof s === 'string' ? Date.parse(s) : NaN;
    return Number.isFinite(t) ? t : fallback;
  }

  function ago(t) {
    if (!t) return 'no data yet';
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.floor(s / 60)}m ago`;
    return `${Math.floor(s / 3600)}h ago`;
  }

  function notice(text) {
    const n = $('#notice');
    n.textContent = text || '';
    n.hidden = !text;
  }

  function setConn(kind, text) {
    const c = $('#conn');
    c.dataset.conn = kind;
    c.textContent = text || kind;
  }

  function errorText(answer) {
    const b = answer && answer.body;
    if (b && typeof b === 'object') return b.exception || b.error || JSON.stringify(b);
    return String(b);
  }

  // ---- configuration and page -----------------------------------------------------------------------------

  async function fetchConfig() {
    const r = await fetch('config.json', { cache: 'no-store' });
    let body;
    try { body = await r.json(); } catch (e) { throw new Error(`config.json: ${r.status} ${r.statusText}`); }
    if (!r.ok) throw new Error(`config.json: ${body.error || r.status}`);
    return body;
  }

  function build(cfg) {
    const site = cfg.site || { buildings: [] };
    const name = site.name || 'Campus';
    $('#site-name').textContent = `${name} climate`;
    document.title = `${name} climate`;
    const main = $('#campus');
    main.replaceChildren();
    for (const b of site.buildings || []) {
      const grid = el('div', { class: 'grid' });
      const summary = el('span', { class: 'muted summary' });
      main.append(el('section', { class: 'building', 'data-building': b.id },
        el('h2', {}, el('span', { text: b.name || b.id }), summary), grid));
      const offices = [];
      for (const o of b.offices || []) {
        const view = officeView(b, o);
        offices.push(view);
        grid.append(view.card);
        state.offices.set(o.id, view);
        for (const d of [o.thermostat, ...(o.acs || []), ...(o.sensors || [])]) if (d) state.devices.set(d, o.id);
      }
      state.buildingSummaries = state.buildingSummaries || [];
      state.buildingSummaries.push({ el: summary, offices });
    }
    state.built = true;
  }

  function officeView(b, o) {
    const v = {
      id: o.id, building: b.id, acs: o.acs || [], thermostat: o.thermostat || '',
      temp: null, tempAt: 0, tempLive: false, lastAt: 0,
      thermostatSetpoint: null, humidity: null, co2: null, occupancy: null, power: null,
      ac: new Map(),        // ac id -> {mode, setpoint, power_w}
      target: null,         // last target sent from this page
      series: [],           // [{t, v}] sorted by t
      lastCommand: new Map(), // ac id -> command
      dirty: true,
    };
    const temp = el('span', { class: 'temp', 'data-value': '' }, '–');
    const unit = el('span', { class: 'unit', text: '°C' });
    const details = el('div', { class: 'details muted' });
    const updated = el('span', { class: 'updated muted' });
    const chart = svg('svg', { class: 'chart', viewBox: '0 0 300 90', role: 'img',
      'aria-label': `recent temperature of ${o.name || o.id}` });
    const input = el('input', { type: 'number', min: String(SETPOINT_MIN), max: String(SETPOINT_MAX), step: '0.5',
      inputmode: 'decimal', 'aria-label': `target temperature of ${o.name || o.id}`, 'data-setpoint-input': o.id });
    const step = (d) => () => {
      const cur = parseFloat(input.value);
      const base = Number.isFinite(cur) ? cur : (v.thermostatSetpoint ?? v.temp ?? 22);
      input.value = String(Math.min(SETPOINT_MAX, Math.max(SETPOINT_MIN, Math.round((base + d) * 2) / 2)));
    };
    // novalidate: the page checks the value itself and says what is wrong, on every browser.
    const form = el('form', { class: 'control', novalidate: '', onsubmit: (ev) => { ev.preventDefault(); setTarget(v, input.value); } },
      el('button', { type: 'button', class: 'step', 'aria-label': 'lower', onclick: step(-0.5) }, '−'),
      input,
      el('button', { type: 'button', class: 'step', 'aria-label': 'raise', onclick: step(0.5) }, '+'),
      el('button', { type: 'submit', class: 'set', 'data-set': o.id, disabled: '' }, 'Set'));
    const commands = el('ul', { class: 'commands' });
    if (!v.acs.length) commands.append(el('li', { class: 'muted', text: 'no air conditioner in this room' }));
    const title = el('h3', {}, el('span', { text: o.name || o.id }));
    if (o.floor) title.append(el('span', { class: 'floor muted', text: `floor ${o.floor}` }));
    v.card = el('article', { class: 'office', 'data-office': o.id },
      title,
      el('div', { class: 'reading' }, el('span', { class: 'big' }, temp, unit), updated),
      details, chart, form, commands);
    Object.assign(v, { elTemp: temp, elDetails: details, elUpdated: updated, elChart: chart, elInput: input,
      elCommands: commands, elSet: $('button.set', form) });
    return v;
  }

  // ---- rendering ---------------------------------------------------------------------------------------------

  let frameRequested = false;
  function schedule() {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(() => {
      frameRequested = false;
      for (const v of state.offices.values()) if (v.dirty) render(v);
      renderSummaries();
      $('#live-count').textContent = `${state.live} live`;
    });
  }

  function render(v) {
    v.dirty = false;
    v.elTemp.textContent = fmt(v.temp);
    v.elTemp.dataset.value = v.temp == null ? '' : String(v.temp);
    markStale(v);
    const parts = [];
    const target = v.thermostatSetpoint ?? firstACSetpoint(v);
    if (target != null) parts.push(`target ${fmt(target)}°`);
    const acIDs = [...v.acs.filter((id) => v.ac.has(id)), ...[...v.ac.keys()].filter((id) => !v.acs.includes(id))];
    for (const id of acIDs) {
      const ac = v.ac.get(id);
      parts.push(`${shortDevice(id, v.id)} ${ac.mode || '?'} ${ac.setpoint != null ? fmt(ac.setpoint) + '°' : ''} ${ac.power_w != null ? Math.round(ac.power_w) + ' W' : ''}`.replace(/\s+/g, ' ').trim());
    }
    if (v.occupancy != null) parts.push(`${v.occupancy} ${v.occupancy === 1 ? 'person' : 'people'}`);
    if (v.humidity != null) parts.push(`${fmt(v.humidity, 0)}% RH`);
    if (v.co2 != null) parts.push(`${Math.round(v.co2)} ppm CO₂`);
    if (v.power != null) parts.push(`room ${fmt(v.power / 1000, 2)} kW`);
    v.elDetails.replaceChildren(...parts.map((p) => el('span', { text: p })));
    // Machine-readable AC setpoints (also handy for tests and screen readers).
    for (const [id, ac] of v.ac) {
      v.elDetails.append(el('data', { 'data-ac-setpoint': id, value: ac.setpoint == null ? '' : String(ac.setpoint) }));
    }
    if (v.elInput.value === '' && target != null && document.activeElement !== v.elInput) v.elInput.value = String(target);
    v.elSet.disabled = !(state.ws && state.ws.readyState === WebSocket.OPEN && state.ready) || !v.acs.length;
    renderChart(v, target);
    renderCommands(v);
    v.elUpdated.textContent = ago(v.lastAt);
  }

  function firstACSetpoint(v) {
    for (const ac of v.ac.values()) if (ac.setpoint != null) return ac.setpoint;
    return null;
  }

  function shortDevice(device, office) {
    return device.startsWith(office + '-') ? device.slice(office.length + 1) : device;
  }

  function renderChart(v, target) {
    const W = 300, H = 90, pad = 4, left = 34;
    const pts = v.series;
    const nodes = [];
    const label = (x, y, text, anchor = 'start') => {
      const e = svg('text', { x, y, 'text-anchor': anchor });
      e.textContent = text;
      return e;
    };
    if (pts.length) {
      // The window grows with the data from 20 s up to ten minutes, so a fresh page still draws a line.
      const t1 = pts[pts.length - 1].t;
      const span = Math.min(CHART_WINDOW_MS, Math.max(20 * 1000, t1 - pts[0].t));
      const t0 = t1 - span;
      const shown = pts.filter((p) => p.t >= t0);
      let lo = Math.min(...shown.map((p) => p.v)), hi = Math.max(...shown.map((p) => p.v));
      const goal = v.target ?? target;
      if (goal != null) { lo = Math.min(lo, goal); hi = Math.max(hi, goal); }
      if (hi - lo < 2) { const mid = (hi + lo) / 2; lo = mid - 1; hi = mid + 1; }
      lo -= 0.2; hi += 0.2;
      const x = (t) => left + ((t - t0) / span) * (W - left - pad);
      const y = (val) => H - pad - ((val - lo) / (hi - lo)) * (H - 2 * pad);
      const labels = [];
      if (goal != null) {
        nodes.push(svg('line', { class: 'goal', x1: left, x2: W - pad, y1: y(goal), y2: y(goal) }));
        labels.push([y(goal) + 3, `${fmt(goal)}°`]);
      }
      nodes.push(svg('polyline', { class: 'line', points: shown.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ') }));
      const last = shown[shown.length - 1];
      nodes.push(svg('circle', { class: 'dot', cx: x(last.t), cy: y(last.v), r: 3 }));
      // Scale labels on the left; one that would overlap the target's label is left out.
      for (const [ly, text] of [[11, `${fmt(hi)}°`], [H - 4, `${fmt(lo)}°`]]) {
        if (labels.every(([oy]) => Math.abs(oy - ly) >= 10)) labels.push([ly, text]);
      }
      for (const [ly, text] of labels) nodes.push(label(left - 4, ly, text, 'end'));
      const secs = Math.round(span / 1000);
      nodes.push(label(W - pad, 11, secs < 90 ? `last ${secs} s` : `last ${Math.round(secs / 60)} min`, 'end'));
    } else {
      nodes.push(label(W / 2, H / 2 + 4, 'waiting for readings', 'middle'));
    }
    v.elChart.replaceChildren(...nodes);
  }

  const STEPS = ['queued', 'delivered', 'acknowledged'];
  const STEP_TITLE = {
    queued: 'in cmd-{ac}, not yet claimed',
    delivered: 'claimed by zedge and published to the device',
    acknowledged: 'the device acknowledged it: gone from the queue, recorded in cmd-results',
  };

  function renderCommands(v) {
    if (!v.acs.length) return;
    const rows = [];
    for (const ac of v.acs) {
      const cmd = v.lastCommand.get(ac);
      const li = el('li', { 'data-device': ac, 'data-cmd-state': cmd ? cmd.state : 'none',
        'data-reply': cmd && cmd.reply && typeof cmd.reply.status === 'string' ? cmd.reply.status : '' },
        el('span', { class: 'dev', text: shortDevice(ac, v.id) }));
      if (!cmd) {
        li.append(el('span', { class: 'muted', text: 'no command sent from here' }));
      } else if (cmd.state === 'failed') {
        li.append(el('span', { class: 'failed', text: `failed: ${cmd.error}` }));
      } else {
        li.append(el('span', { class: 'sp', text: `→ ${fmt(cmd.setpoint)}°` }));
        const reached = cmd.state === 'gone' ? 1 : STEPS.indexOf(cmd.state);
        const steps = el('span', { class: 'steps' });
        STEPS.forEach((s, i) => steps.append(el('span', {
          class: `step-${i <= reached ? 'done' : 'todo'}${s === cmd.state ? ' current' : ''}`, title: STEP_TITLE[s], text: s,
        })));
        li.append(steps);
        if (cmd.state === 'gone') li.append(el('span', { class: 'muted', text: 'left the queue, awaiting its record' }));
        if (cmd.state === 'acknowledged') {
          let how = cmd.vias && cmd.vias.length ? `via ${cmd.vias.join(' + ')}` : '';
          if (cmd.reply && typeof cmd.reply.status === 'string') how += `${how ? ', ' : ''}device: ${cmd.reply.status}`;
          if (how) li.append(el('span', { class: 'muted how', text: how }));
        }
      }
      rows.push(li);
    }
    v.elCommands.replaceChildren(...rows);
  }

  function renderSummaries() {
    for (const s of state.buildingSummaries || []) {
      const temps = s.offices.map((o) => o.temp).filter((t) => t != null);
      let power = 0, acs = 0;
      for (const o of s.offices) for (const ac of o.ac.values()) if (ac.power_w != null) { power += ac.power_w; acs++; }
      const parts = [];
      if (temps.length) parts.push(`avg ${fmt(temps.reduce((a, b) => a + b, 0) / temps.length)}°C`);
      if (acs) parts.push(`AC ${(power / 1000).toFixed(1)} kW`);
      s.el.textContent = parts.join(' · ');
    }
  }

  // A room is stale when nothing has been heard from it for a minute (its devices are offline, or the page is).
  const STALE_MS = 60 * 1000;
  function markStale(v) {
    v.card.classList.toggle('stale', !v.lastAt || Date.now() - v.lastAt > STALE_MS);
  }

  setInterval(() => {
    for (const v of state.offices.values()) {
      v.elUpdated.textContent = ago(v.lastAt);
      markStale(v);
    }
  }, 1000);

  // ---- data in ----------------------------------------------------------------------------------------------

  // apply records one message of a telemetry queue. live: pushed now (always newest); otherwise it comes from
  // the initial listing, which starts at the oldest message, so it only fills values nothing live has set.
  function apply(queue, body, live) {
    if (!body || typeof body !== 'object') return;
    if (queue === RESULTS_QUEUE) { onResult(body); return; }
    if (queue === TELEMETRY_QUEUE) {
      const p = body.payload;
      if (!p || typeof p !== 'object') return;
      const v = state.offices.get(p.office) || state.offices.get(state.devices.get(p.device || body.device));
      if (!v) return;
      const t = timeOf(body.received_at, timeOf(p.ts, Date.now()));
      if (p.type === 'thermostat') {
        setTemp(v, num(p.temperature), t, live);
        if (num(p.setpoint) != null && (live || v.thermostatSetpoint == null)) v.thermostatSetpoint = p.setpoint;
        if (num(p.occupancy) != null && (live || v.occupancy == null)) v.occupancy = p.occupancy;
      } else if (p.type === 'ac') {
        const id = p.device || body.device;
        if (live || !v.ac.has(id)) v.ac.set(id, { mode: p.mode, setpoint: num(p.setpoint), power_w: num(p.power_w) });
      }
      touch(v, t, live);
      return;
    }
    if (queue.startsWith('readings-')) {
      const v = state.offices.get(body.office) || state.offices.get(state.devices.get(body.sensor));
      if (!v) return;
      const t = timeOf(body.ts, Date.now());
      const val = num(body.value);
      switch (body.kind) {
        case 'temperature': setTemp(v, val, t, live); break;
        case 'humidity': if (val != null && (live || v.humidity == null)) v.humidity = val; break;
        case 'co2': if (val != null && (live || v.co2 == null)) v.co2 = val; break;
        case 'occupancy': if (val != null && (live || v.occupancy == null)) v.occupancy = val; break;
        case 'power': if (val != null && (live || v.power == null)) v.power = val; break;
        default: return;
      }
      touch(v, t, live);
    }
  }

  function setTemp(v, val, t, live) {
    if (val == null) return;
    if (live || !v.tempLive) {
      if (live || t >= v.tempAt) { v.temp = val; v.tempAt = t; }
      v.tempLive = v.tempLive || live;
    }
    const s = v.series;
    let i = s.length;
    while (i > 0 && s[i - 1].t > t) i--;
    s.splice(i, 0, { t, v: val });
    if (s.length > MAX_POINTS) s.splice(0, s.length - MAX_POINTS);
  }

  function touch(v, t, live) {
    v.lastAt = live ? Date.now() : Math.max(v.lastAt, Math.min(t, Date.now()));
    v.dirty = true;
    schedule();
  }

  // onResult handles a cmd-results record. A device acknowledged with a PUBACK gives one record (via
  // "puback"); one that also replies on its ack topic gives a second (via "reply", the reply under "reply").
  function onResult(rec) {
    if (typeof rec.id !== 'string') return;
    const cmd = state.commands.get(rec.id);
    if (!cmd) {
      const early = state.earlyResults.get(rec.id) || [];
      early.push(rec);
      state.earlyResults.set(rec.id, early);
      if (state.earlyResults.size > 500) state.earlyResults.delete(state.earlyResults.keys().next().value);
      return;
    }
    acknowledge(cmd, rec);
  }

  function acknowledge(cmd, rec) {
    cmd.state = 'acknowledged';
    cmd.vias = cmd.vias || [];
    if (rec.via && !cmd.vias.includes(rec.via)) cmd.vias.push(rec.via);
    if (rec.reply && typeof rec.reply === 'object') cmd.reply = rec.reply;
    cmd.ackedAt = cmd.ackedAt || rec.acked_at;
    markCommand(cmd);
  }

  function markCommand(cmd) {
    const v = state.offices.get(cmd.office);
    if (v) { v.dirty = true; schedule(); }
  }

  // ---- the socket -------------------------------------------------------------------------------------------

  function call(action, body, headers) {
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not connected'));
    const frame = {
      action,
      headers: Object.assign({ 'Client-ID': state.clientID, 'X-Project-ID': state.cfg.project_id }, headers || {}),
    };
    if (body) frame.body = body;
    return new Promise((resolve, reject) => {
      state.pending.push({ action, resolve, reject });
      ws.send(JSON.stringify(frame));
    });
  }

  function onFrame(data) {
    let f;
    try { f = JSON.parse(data); } catch (e) { return; }
    if (!f || typeof f !== 'object') return;
    if (f.Message_Type === 'Notification' && typeof f.queue_name === 'string') {
      if (f.queue_name !== RESULTS_QUEUE) state.live++;
      apply(f.queue_name, f.body, true);
      return;
    }
    if ('request' in f && f.headers && 'status' in f.headers) {
      const p = state.pending.shift();
      if (p) p.resolve({ status: f.headers.status, body: f.body });
    }
  }

  async function connect() {
    try {
      const cfg = await fetchConfig();
      if (!state.built) build(cfg);
      state.cfg = cfg;
      state.clientID = cfg.client_id || state.clientID || uuid4();
    } catch (e) {
      notice(e.message);
      setConn('offline', 'no config');
      return reconnectLater();
    }
    setConn('connecting', 'connecting…');
    let ws;
    try {
      ws = new WebSocket(state.cfg.websocket_url);
    } catch (e) {
      notice(`websocket: ${e.message}`);
      return reconnectLater();
    }
    state.ws = ws;
    state.ready = false;
    ws.onmessage = (ev) => onFrame(ev.data);
    ws.onopen = () => { session(ws); };
    ws.onclose = (ev) => {
      if (state.ws !== ws) return;
      for (const p of state.pending.splice(0)) p.reject(new Error('connection closed'));
      state.ready = false;
      const why = state.failure || (ev.code === 4003 ? 'authentication expired' : (ev.reason || `connection closed (${ev.code})`));
      state.failure = null;
      setConn('offline', 'offline');
      notice(`Not connected to zedge: ${why}. Retrying…`);
      for (const v of state.offices.values()) v.dirty = true;
      schedule();
      reconnectLater();
    };
  }

  function reconnectLater() {
    const delay = Math.min(30000, 500 * 2 ** Math.min(state.retry, 6)) * (0.75 + Math.random() / 2);
    state.retry++;
    setTimeout(connect, delay);
  }

  async function session(ws) {
    try {
      if (state.cfg.token) {
        const a = await call('authenticate', null, { 'X-Auth-Token': state.cfg.token });
        if (a.status !== 200) throw new Error(`authentication failed (${a.status}): ${errorText(a)}`);
      }
      const queues = (state.cfg.site.buildings || []).map((b) => `readings-${b.id}`);
      queues.push(TELEMETRY_QUEUE, RESULTS_QUEUE);
      // Subscribe first, then list: a message posted in between is seen twice at worst, never missed.
      for (const q of queues) {
        const r = await call('subscription_create', { queue_name: q, ttl: SUBSCRIPTION_TTL, options: {} });
        if (r.status !== 201) throw new Error(`subscribing to ${q} failed (${r.status}): ${errorText(r)}`);
      }
      state.ready = true;
      state.retry = 0;
      setConn('online', 'live');
      notice('');
      for (const v of state.offices.values()) v.dirty = true;
      schedule();
      for (const q of queues) {
        if (q === RESULTS_QUEUE) continue;
        const r = await call('message_list', { queue_name: q, limit: 20, echo: true, include_claimed: true });
        if (r.status === 200 && r.body && Array.isArray(r.body.messages)) {
          for (const m of r.body.messages) apply(q, m.body, false);
        }
      }
      pollCommands();
    } catch (e) {
      if (state.ws === ws) {
        state.failure = e.message; // shown when the close arrives
        ws.close();
      }
    }
  }

  // ---- commands ---------------------------------------------------------------------------------------------

  async function setTarget(v, raw) {
    const sp = Math.round(parseFloat(raw) * 2) / 2;
    if (!Number.isFinite(sp) || sp < SETPOINT_MIN || sp > SETPOINT_MAX) {
      notice(`The target must be a number from ${SETPOINT_MIN} to ${SETPOINT_MAX} °C.`);
      return;
    }
    notice('');
    v.target = sp;
    v.elInput.value = String(sp);
    for (const ac of v.acs) {
      const queue = `cmd-${ac}`;
      const cmd = { id: null, device: ac, queue, office: v.id, setpoint: sp, state: 'sending', sentAt: Date.now() };
      v.lastCommand.set(ac, cmd);
      markCommand(cmd);
      try {
        const r = await call('message_post', { queue_name: queue,
          messages: [{ ttl: COMMAND_TTL, body: { command: 'set_setpoint', setpoint: sp, by: 'app' } }] });
        if (r.status !== 201 || !r.body || !Array.isArray(r.body.message_ids) || !r.body.message_ids.length) {
          throw new Error(`${r.status} ${errorText(r)}`);
        }
        cmd.id = r.body.message_ids[0];
        cmd.state = 'queued';
        state.commands.set(cmd.id, cmd);
        if (state.commands.size > 500) state.commands.delete(state.commands.keys().next().value);
        const early = state.earlyResults.get(cmd.id);
        if (early) {
          state.earlyResults.delete(cmd.id);
          for (const rec of early) acknowledge(cmd, rec);
        }
      } catch (e) {
        cmd.state = 'failed';
        cmd.error = e.message;
      }
      markCommand(cmd);
    }
    pollCommands();
  }

  // pollCommands follows each command not yet acknowledged with message_get until it leaves its queue:
  // claim_id null is queued, a claim is delivered, 404 is gone (acknowledged once its cmd-results record,
  // pushed to this socket, arrives).
  let polling = false;
  async function pollCommands() {
    if (polling) return;
    polling = true;
    try {
      for (;;) {
        const open = [...state.commands.values()].filter((c) => c.state === 'queued' || c.state === 'delivered');
        if (!open.length || !state.ready) return;
        for (const c of open) {
          const r = await call('message_get', { queue_name: c.queue, message_id: c.id });
          if (c.state === 'acknowledged') continue;
          if (r.status === 200 && r.body && r.body.messages) c.state = r.body.messages.claim_id ? 'delivered' : 'queued';
          else if (r.status === 404) c.state = 'gone';
          markCommand(c);
        }
        await new Promise((res) => setTimeout(res, POLL_MS));
      }
    } catch (e) {
      // The socket closed; the next session polls again.
    } finally {
      polling = false;
    }
  }

  // A resource the Content-Security-Policy blocked means a misconfigured deployment (a websocket URL the
  // server did not allow, say): say so in the console, where tests and people look.
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`blocked by the Content-Security-Policy: ${e.violatedDirective} ${e.blockedURI}`);
  });

  connect();
})();
