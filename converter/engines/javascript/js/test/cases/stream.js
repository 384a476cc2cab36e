'use strict';
// Cases for js/node/stream.js: what comes out of the minimal streams, and the
// legacy Stream pattern packages such as jws use.

module.exports = (add) => {
  const cases = [
    `return [typeof m, m.Stream === m, typeof m.Readable, typeof m.Writable, typeof m.Transform, typeof m.PassThrough, typeof m.Duplex, typeof new m().on]`,
    `const s = new m(); return [typeof s.pipe, typeof s.on, s instanceof m]`,
    // jws's DataStream: util.inherits(DataStream, Stream), readable = true, emits 'data' itself.
    `function DataStream(data) { m.call(this); this.buffer = data; this.readable = true; const self = this; Promise.resolve().then(() => { self.emit('data', self.buffer); self.emit('end'); }); } Object.setPrototypeOf(DataStream.prototype, m.prototype); const ds = new DataStream('payload'); return new Promise((resolve) => { const got = []; ds.on('data', (d) => got.push(d)); ds.on('end', () => resolve([got, ds.readable, ds instanceof m])); })`,
    `function Src() { m.call(this); this.readable = true; } Object.setPrototypeOf(Src.prototype, m.prototype); const src = new Src(); const chunks = []; const dest = new m.Writable({ write(c, e, cb) { chunks.push(c.toString()); cb(); } }); src.pipe(dest); src.emit('data', 'a'); src.emit('data', 'b'); src.emit('end'); return new Promise((resolve) => dest.on('finish', () => resolve(chunks)))`,
    `const r = m.Readable.from(['a', 'b', 'c']); const got = []; return new Promise((resolve) => { r.on('data', (d) => got.push(d)); r.on('end', () => resolve(got)); })`,
    `const r = m.Readable.from([1, 2, 3]); return (async () => { const got = []; for await (const x of r) got.push(x); return got; })()`,
    `const r = m.Readable.from([]); return new Promise((resolve) => { const log = []; r.on('data', () => log.push('data')); r.on('end', () => { log.push('end'); resolve(log); }); })`,
    `const r = new m.Readable({ read() {} }); r.push('x'); r.push('y'); r.push(null); const got = []; return new Promise((resolve) => { r.on('data', (d) => got.push(d.toString())); r.on('end', () => resolve(got)); })`,
    `let n = 0; const r = new m.Readable({ read() { n++; this.push(n <= 3 ? 'chunk' + n : null); } }); const got = []; return new Promise((resolve) => { r.on('data', (d) => got.push(d.toString())); r.on('end', () => resolve(got)); })`,
    `const t = new m.Transform({ transform(chunk, enc, cb) { cb(null, chunk.toString().toUpperCase()); } }); const got = []; t.on('data', (d) => got.push(d.toString())); return new Promise((resolve) => { t.on('end', () => resolve(got)); t.write('hello '); t.write('world'); t.end(); })`,
    `const t = new m.Transform({ transform(c, e, cb) { this.push(c); cb(); }, flush(cb) { cb(null, '!'); } }); const got = []; t.on('data', (d) => got.push(d.toString())); return new Promise((resolve) => { t.on('end', () => resolve(got)); t.end('x'); })`,
    `const p = new m.PassThrough(); const got = []; p.on('data', (d) => got.push(d.toString())); return new Promise((resolve) => { p.on('end', () => resolve(got)); p.write('1'); p.write('2'); p.end('3'); })`,
    `const chunks = []; const w = new m.Writable({ write(chunk, enc, cb) { chunks.push([chunk.toString(), enc]); cb(); } }); return new Promise((resolve) => { w.on('finish', () => resolve(chunks)); w.write('a'); w.write('b', 'utf8'); w.end('c'); })`,
    `const w = new m.Writable({ write(c, e, cb) { cb(); } }); return [w.write('x'), w.writable]`,
    `const log = []; const w = new m.Writable({ write(c, e, cb) { log.push('write'); cb(); } }); return new Promise((resolve) => { w.write('x', () => log.push('write cb')); w.end(() => { log.push('end cb'); resolve(log); }); })`,
    `const r = m.Readable.from(['a', 'b']); const p = new m.PassThrough(); const got = []; p.on('data', (d) => got.push(String(d))); return new Promise((resolve) => { p.on('end', () => resolve(got)); r.pipe(p); })`,
    `class Upper extends m.Transform { _transform(chunk, enc, cb) { cb(null, String(chunk).toUpperCase()); } } const u = new Upper(); const got = []; u.on('data', (d) => got.push(String(d))); return new Promise((resolve) => { u.on('end', () => resolve(got)); u.end('abc'); })`,
    `function Legacy() { m.Readable.call(this); } Object.setPrototypeOf(Legacy.prototype, m.Readable.prototype); Legacy.prototype._read = function () { this.push('v'); this.push(null); }; const l = new Legacy(); const got = []; return new Promise((resolve) => { l.on('data', (d) => got.push(String(d))); l.on('end', () => resolve([got, l instanceof m.Readable, l instanceof m])); })`,
  ];
  for (const body of cases) add(`(m) => { ${body}; }`);
};
