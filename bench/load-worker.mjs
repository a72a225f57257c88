// The load generator of bench/load.ts, run in a worker thread. Exactly `requests` requests over
// `concurrency` keep-alive connections; reports throughput, latency percentiles and statuses.
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

async function generate(options) {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const target = new URL(options.url);
  const latencies = [];
  const statuses = {};
  let next = 0;
  const one = (n) =>
    new Promise((done, fail) => {
      const headers = { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) };
      if (options.uniqueHeader) headers[options.uniqueHeader] = `load-${process.pid}-${Date.now()}-${n}`;
      const started = performance.now();
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - started);
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          done();
        });
      });
      req.on('error', fail);
      req.end(options.body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.requests) await one(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: options.requests, seconds, perSecond: options.requests / seconds, p50: at(0.5), p99: at(0.99), statuses };
}

parentPort.postMessage(await generate(workerData));
