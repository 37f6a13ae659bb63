// Node's event loop over the OS: files, directories, loopback TCP and HTTP,
// a child process, signals and timers, in an order fixed by the program.
'use strict';
const fs = require('fs');
const path = require('path');
const net = require('net');
const http = require('http');
const cp = require('child_process');
const os = require('os');

function files() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pvm-node-'));
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(d, `f${String(i).padStart(2, '0')}.txt`), 'x'.repeat(i * 100));
  fs.renameSync(path.join(d, 'f03.txt'), path.join(d, 'moved.txt'));
  fs.appendFileSync(path.join(d, 'moved.txt'), 'tail');
  fs.symlinkSync('moved.txt', path.join(d, 'link'));
  const names = fs.readdirSync(d).sort();
  const sizes = names.map((n) => fs.lstatSync(path.join(d, n)).size);
  const fd = fs.openSync(path.join(d, 'f10.txt'), 'r+');
  const buf = Buffer.alloc(5);
  fs.readSync(fd, buf, 0, 5, 995);
  fs.writeSync(fd, 'END', 997);
  fs.ftruncateSync(fd, 1000);
  fs.closeSync(fd);
  const back = fs.readFileSync(path.join(d, 'f10.txt'), 'utf8');
  console.log('files', names.length, names[3], sizes.reduce((a, b) => a + b), fs.readlinkSync(path.join(d, 'link')), buf.toString(), back.slice(-5), back.length);
  fs.rmSync(d, { recursive: true });
  console.log('removed', fs.existsSync(d));
}

function tcp() {
  return new Promise((resolve) => {
    const srv = net.createServer((s) => {
      let got = '';
      s.on('data', (c) => { got += c; if (got.endsWith('\n')) s.end(got.toUpperCase()); });
    });
    srv.listen(0, '127.0.0.1', () => {
      const port = srv.address().port;
      const clients = [];
      for (let i = 0; i < 8; i++) {
        clients.push(new Promise((r) => {
          const c = net.connect(port, '127.0.0.1', () => c.write(`client ${i} ${'z'.repeat(i * 1000).length}\n`));
          let d = '';
          c.on('data', (x) => (d += x));
          c.on('end', () => r(d.trim()));
        }));
      }
      Promise.all(clients).then((v) => { console.log('tcp', v.join(' / ')); srv.close(resolve); });
    });
  });
}

function httpRound() {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.setHeader('content-type', 'text/plain');
        res.end(`${req.method} ${req.url} ${body.length} ${req.headers['x-test']}`);
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const req = http.request({ host: '127.0.0.1', port: srv.address().port, method: 'POST', path: '/p?q=1', headers: { 'x-test': 'yes' } }, (res) => {
        let d = '';
        res.on('data', (c) => (d += c));
        res.on('end', () => { console.log('http', res.statusCode, res.headers['content-type'], d); srv.close(resolve); });
      });
      req.end('a'.repeat(12345));
    });
  });
}

function children() {
  const r = cp.spawnSync('/bin/sh', ['-c', 'read x; echo "sh got $x"; echo err >&2; exit 3'], { input: 'line\n' });
  console.log('spawnSync', r.status, r.stdout.toString().trim(), r.stderr.toString().trim());
  return new Promise((resolve) => {
    const c = cp.spawn('/bin/sh', ['-c', 'kill -TERM $$']);
    c.on('exit', (code, sig) => { console.log('spawn', code, sig); resolve(); });
  });
}

function signals() {
  return new Promise((resolve) => {
    // A signal watcher does not keep the loop alive: this timer does.
    const keep = setTimeout(() => {}, 10000);
    process.once('SIGUSR2', () => { clearTimeout(keep); console.log('signal', 'SIGUSR2'); resolve(); });
    process.kill(process.pid, 'SIGUSR2');
  });
}

function timers() {
  return new Promise((resolve) => {
    const order = [];
    setTimeout(() => order.push('t20'), 20);
    setTimeout(() => order.push('t0'), 0);
    setImmediate(() => order.push('imm'));
    process.nextTick(() => order.push('tick'));
    Promise.resolve().then(() => order.push('micro'));
    const iv = setInterval(() => { order.push('iv'); if (order.filter((x) => x === 'iv').length === 3) clearInterval(iv); }, 5);
    setTimeout(() => { console.log('timers', order.slice(0, 2).join(','), order.filter((x) => x === 'iv').length, order.includes('t20'), order.includes('imm')); resolve(); }, 100);
  });
}

(async () => {
  files();
  await tcp();
  await httpRound();
  await children();
  await signals();
  await timers();
  console.log('exit code', process.exitCode ?? 0);
})();
