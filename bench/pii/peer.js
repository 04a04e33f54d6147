// The peer for bench/pii: redact-pii (npm) on the same text as pii_bench. Prints JSON lines:
// {"bench":"pii_peer_speed",...} (median of the repeats over the first --sample-mb of the
// corpus) and {"bench":"pii_peer_accuracy","type":...} per type plus "all" and "any".
// Its detectors that match our types are enabled (creditCardNumber -> card, phoneNumber ->
// phone, emailAddress -> email, usSocialSecurityNumber -> ssn, and digits, a generic run of
// 4+ digits that counts only towards "any"); names, addresses, URLs and the like are off so
// that they do not count against it. Spans are recovered by aligning the redacted text with
// the original around each placeholder.
//
//   node bench/pii/peer.js LABELLED.jsonl CORPUS.txt [--sample-mb 5] [--repeats 3]
'use strict';
const fs = require('fs');
const { SyncRedactor } = require('redact-pii');

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const [labelledPath, corpusPath] = args;
const sampleMb = flag('--sample-mb', 5);
const repeats = flag('--repeats', 3);

const kTypes = {
  CREDIT_CARD_NUMBER: 'card', PHONE_NUMBER: 'phone', EMAIL_ADDRESS: 'email',
  US_SOCIAL_SECURITY_NUMBER: 'ssn', DIGITS: 'digits',
};
const off = { enabled: false };
const redactor = new SyncRedactor({
  builtInRedactors: {
    names: off, streetAddress: off, zipcode: off, ipAddress: off, url: off, username: off,
    password: off, credentials: off,
  },
});

// Spans [start, end, type] (UTF-16 offsets) of the placeholders in `redacted`.
function spansOf(original, redacted) {
  const re = new RegExp(Object.keys(kTypes).join('|'), 'g');
  const parts = [];
  let last = 0;
  for (let m; (m = re.exec(redacted)) !== null;) {
    parts.push({ literal: redacted.slice(last, m.index), type: kTypes[m[0]] });
    last = m.index + m[0].length;
  }
  const tail = redacted.slice(last);
  const spans = [];
  let pos = 0;
  for (let i = 0; i < parts.length; ++i) {
    pos += parts[i].literal.length;
    const next = i + 1 < parts.length ? parts[i + 1].literal : tail;
    let end = next.length === 0 ? (i + 1 < parts.length ? pos + 1 : original.length)
                                : original.indexOf(next, pos + 1);
    if (end < 0) end = original.length;
    spans.push([pos, end, parts[i].type]);
    pos = end;
  }
  return spans;
}

function score(counts, found, gold, typed) {
  const used = new Array(gold.length).fill(false);
  for (const [s, e, t] of found) {
    const type = typed ? t : 'any';
    let hit = false;
    for (let g = 0; g < gold.length && !hit; ++g) {
      if (used[g] || !(s < gold[g][1] && gold[g][0] < e)) continue;
      if (typed && gold[g][2] !== type) continue;
      used[g] = hit = true;
    }
    if (typed && type === 'digits') continue;  // generic: counted only untyped
    counts[type] = counts[type] || { tp: 0, fp: 0, fn: 0 };
    counts[type][hit ? 'tp' : 'fp'] += 1;
  }
  gold.forEach((g, i) => {
    if (used[i]) return;
    const type = typed ? g[2] : 'any';
    counts[type] = counts[type] || { tp: 0, fp: 0, fn: 0 };
    counts[type].fn += 1;
  });
}

function print(type, c) {
  const p = c.tp + c.fp ? c.tp / (c.tp + c.fp) : 1;
  const r = c.tp + c.fn ? c.tp / (c.tp + c.fn) : 1;
  console.log(JSON.stringify({ bench: 'pii_peer_accuracy', type, ...c, precision: p, recall: r }));
}

const typed = {}, any = {};
for (const line of fs.readFileSync(labelledPath, 'utf8').split('\n')) {
  if (!line) continue;
  const { text, spans } = JSON.parse(line);
  const bytes = Buffer.from(text, 'utf8');
  // Gold offsets are bytes; redact-pii works on UTF-16 strings.
  const toUtf16 = (b) => bytes.subarray(0, b).toString('utf8').length;
  const gold = spans.map((s) => [toUtf16(s.start), toUtf16(s.end), s.type]);
  const found = spansOf(text, redactor.redact(text));
  score(typed, found, gold, true);
  score(any, found, gold, false);
}
const all = { tp: 0, fp: 0, fn: 0 };
for (const type of Object.keys(typed).sort()) {
  print(type, typed[type]);
  for (const k of ['tp', 'fp', 'fn']) all[k] += typed[type][k];
}
print('all', all);
print('any', any.any);

const corpus = fs.readFileSync(corpusPath).subarray(0, sampleMb * 1e6).toString('utf8');
const bytes = Buffer.byteLength(corpus, 'utf8');
const seconds = [];
for (let r = 0; r < repeats; ++r) {
  const t0 = process.hrtime.bigint();
  redactor.redact(corpus);
  seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
seconds.sort((a, b) => a - b);
const median = seconds[Math.floor(seconds.length / 2)];
console.log(JSON.stringify({ bench: 'pii_peer_speed', bytes, repeats, seconds_median: median,
  mb_per_s: bytes / median / 1e6, node: process.version,
  redact_pii: require('redact-pii/package.json').version }));
