// worker_threads: workers sharing memory (SharedArrayBuffer with Atomics
// add, wait and notify), messages both ways, a MessageChannel between two
// workers, and a worker that throws. Every result is independent of timing.
'use strict';
const { Worker, isMainThread, parentPort, workerData, MessageChannel } = require('worker_threads');

if (isMainThread) {
  const N = 4;
  const sab = new SharedArrayBuffer(4 * (N + 2));
  const shared = new Int32Array(sab);
  const done = [];
  let pending = N;
  for (let id = 0; id < N; id++) {
    const w = new Worker(__filename, { workerData: { kind: 'count', id, sab, n: 50000 } });
    w.on('message', (m) => {
      done.push(m);
      if (--pending === 0) {
        done.sort((a, b) => a.id - b.id);
        console.log('counted', shared[0], done.map((d) => `${d.id}:${d.sum}`).join(' '));
        pingpong();
      }
    });
  }
  function pingpong() {
    const { port1, port2 } = new MessageChannel();
    const a = new Worker(__filename, { workerData: { kind: 'ping' }, transferList: [] });
    const b = new Worker(__filename, { workerData: { kind: 'pong' } });
    a.postMessage({ port: port1 }, [port1]);
    b.postMessage({ port: port2 }, [port2]);
    a.on('message', (m) => {
      console.log('pingpong', m);
      Promise.all([a.terminate(), b.terminate()]).then(() => waiter());
    });
  }
  function waiter() {
    // A worker blocks in Atomics.wait until the main thread notifies it.
    // The main thread cannot know when the worker has gone to sleep, so it
    // notifies again every 10 ms until a notify wakes someone (the slot
    // stays 0, so the wait can only end by a notify or its timeout: no
    // 'not-equal' because the worker was slow to reach the wait), having
    // first stored 42 in another slot, which the woken worker must see.
    Atomics.store(shared, N + 1, 0);
    Atomics.store(shared, N, 0);
    const w = new Worker(__filename, { workerData: { kind: 'wait', sab, slot: N + 1, seen: N } });
    w.on('message', (m) => {
      if (m === 'waiting') {
        Atomics.store(shared, N, 42);
        const poke = () => { if (Atomics.notify(shared, N + 1, 1) === 0) setTimeout(poke, 10); };
        setTimeout(poke, 10);
      } else {
        console.log('woken', m);
        thrower();
      }
    });
  }
  function thrower() {
    const w = new Worker(__filename, { workerData: { kind: 'throw' } });
    w.on('error', (e) => console.log('worker error', e.constructor.name, e.message));
    w.on('exit', (code) => console.log('worker exit', code));
  }
} else if (workerData.kind === 'count') {
  const shared = new Int32Array(workerData.sab);
  let sum = 0;
  for (let i = 0; i < workerData.n; i++) { Atomics.add(shared, 0, 1); sum += (i * (workerData.id + 1)) % 97; }
  parentPort.postMessage({ id: workerData.id, sum });
} else if (workerData.kind === 'ping') {
  parentPort.once('message', ({ port }) => {
    let rounds = 0;
    port.on('message', (v) => {
      if (++rounds === 1000) { parentPort.postMessage(`${rounds} rounds, last ${v}`); port.close(); } else port.postMessage(v + 1);
    });
    port.postMessage(0);
  });
} else if (workerData.kind === 'pong') {
  parentPort.once('message', ({ port }) => { port.on('message', (v) => port.postMessage(v * 2 % 1000003)); });
} else if (workerData.kind === 'wait') {
  const shared = new Int32Array(workerData.sab);
  parentPort.postMessage('waiting');
  const r = Atomics.wait(shared, workerData.slot, 0, 60000);
  parentPort.postMessage(`${r} ${Atomics.load(shared, workerData.seen)}`);
} else if (workerData.kind === 'throw') {
  throw new TypeError('thrown in a worker');
}
