// Enough hot JavaScript for V8 to compile it through its tiers (Sparkplug,
// Maglev, TurboFan: machine code written, flushed and run), deoptimize some
// of it, and print results that do not depend on the machine.
'use strict';
const crypto = require('crypto');
const zlib = require('zlib');

function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

function sieve(n) {
  const s = new Uint8Array(n + 1);
  let count = 0;
  for (let i = 2; i <= n; i++) {
    if (s[i]) continue;
    count++;
    for (let j = i * i; j <= n; j += i) s[j] = 1;
  }
  return count;
}

class Shape { area() { return 0; } }
class Rect extends Shape { constructor(w, h) { super(); this.w = w; this.h = h; } area() { return this.w * this.h; } }
class Circle extends Shape { constructor(r) { super(); this.r = r; } area() { return Math.PI * this.r * this.r; } }
class Tri extends Shape { constructor(b, h) { super(); this.b = b; this.h = h; } area() { return this.b * this.h / 2; } }

function shapes(n) {
  const v = [];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    v.push(k === 0 ? new Rect(i % 7, i % 11) : k === 1 ? new Circle(i % 5) : new Tri(i % 13, i % 3));
  }
  let total = 0;
  for (const s of v) total += s.area();
  // A new shape of object at a call site that was monomorphic: deoptimize.
  total += shapes.extra ? shapes.extra.area() : 0;
  return total;
}

function* lcg(seed) { let x = seed; for (;;) { x = (x * 1103515245 + 12345) % 2147483648; yield x; } }

function sorting(n) {
  const g = lcg(7);
  const a = [];
  for (let i = 0; i < n; i++) a.push({ k: g.next().value % 100000, i });
  a.sort((x, y) => x.k - y.k || x.i - y.i);
  let h = 0;
  for (let i = 0; i < a.length; i += 97) h = (h * 31 + a[i].k) >>> 0;
  return h;
}

function strings(n) {
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(`item-${i.toString(36)}-${(i * 2654435761 >>> 0) % 1000}`);
  const s = parts.join(',');
  const m = s.match(/item-[a-z]+-9\d\d/g) || [];
  const rep = s.replace(/-(\d)(\d)/g, (_, a, b) => `:${b}${a}`);
  const obj = JSON.parse(JSON.stringify({ n, first: parts.slice(0, 3), count: m.length, len: rep.length }));
  return `${obj.n} ${obj.first.join('|')} ${obj.count} ${obj.len} ${s.split('-').length} ${s.toUpperCase().charCodeAt(n)}`;
}

function bigint(n) { let f = 1n; for (let i = 2n; i <= BigInt(n); i++) f *= i; const s = f.toString(); return `${s.length} ${s.slice(0, 20)} ${(f % 1000000007n)}`; }

function floats(n) {
  let a = 0, b = 0;
  for (let i = 1; i <= n; i++) { a += Math.sin(i) * Math.sqrt(i) / Math.log(i + 1); b += Math.exp(-i / n) * Math.atan2(i, n - i + 1); }
  return `${a.toFixed(9)} ${b.toPrecision(12)} ${Math.hypot(3, 4, 12)} ${(0.1 + 0.2)} ${1 / 3} ${2 ** -1074} ${Number.MAX_VALUE}`;
}

function maps(n) {
  const m = new Map();
  const set = new Set();
  for (let i = 0; i < n; i++) { const k = 'k' + ((i * 7919) % (n >> 1)); m.set(k, (m.get(k) || 0) + i); set.add(i % 1013); }
  let h = 0;
  for (const [k, v] of m) h = (h ^ (v + k.length)) * 16777619 >>> 0;
  const o = {};
  for (let i = 0; i < 5000; i++) o['p' + (i % 300)] = i;
  return `${m.size} ${set.size} ${h} ${Object.keys(o).length} ${o.p17}`;
}

async function asyncs(n) {
  let t = 0;
  for (let i = 0; i < n; i++) t += await new Promise((r) => (i % 2 ? queueMicrotask(() => r(i)) : r(i * 2)));
  const all = await Promise.all([1, 2, 3].map(async (x) => x * x));
  return `${t} ${all}`;
}

function errors(n) {
  let c = 0;
  for (let i = 0; i < n; i++) { try { if (i % 100 === 0) throw new RangeError('r' + i); c += i & 1; } catch (e) { c += e.message.length; } }
  return c;
}

(async () => {
  console.log('fib', fib(27));
  console.log('sieve', sieve(3000000));
  console.log('shapes', shapes(300000).toFixed(6));
  shapes.extra = { area() { return 1.5; } };
  console.log('shapes-deopt', shapes(30000).toFixed(6));
  console.log('sort', sorting(200000));
  console.log('strings', strings(60000));
  console.log('bigint', bigint(1500));
  console.log('floats', floats(400000));
  console.log('maps', maps(300000));
  console.log('async', await asyncs(100000));
  console.log('errors', errors(200000));
  const data = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i} ${(i * 7919) % 10007}`).join('\n'));
  const z = zlib.deflateSync(data, { level: 9 });
  console.log('zlib', data.length, z.length, zlib.inflateSync(z).equals(data), zlib.gunzipSync(zlib.gzipSync(data)).length);
  console.log('sha256', crypto.createHash('sha256').update(data).digest('hex'));
  console.log('hmac', crypto.createHmac('sha512', 'key').update('message').digest('base64'));
  console.log('aes', crypto.createCipheriv('aes-256-cbc', Buffer.alloc(32, 7), Buffer.alloc(16, 9)).update(data.subarray(0, 64)).toString('hex'));
})();
