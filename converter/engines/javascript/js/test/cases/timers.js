'use strict';
// Cases for js/node/timers.js. Each scenario logs callbacks and resolves its
// promise from the last one: node runs it on real timers, the engine realm on
// the virtual clock driven as the prelude drives it (see settle() in
// ../vectors.js). Delays are spaced widely enough for real timers to keep
// their order; each scenario starts inside a timer callback, where node's
// order of timeouts and immediates is deterministic.

module.exports = (add) => {
  const scenario = (body) => add(`(m) => new Promise((done) => { const log = []; m.setTimeout(() => { ${body} }, 1); })`);

  scenario(`m.setTimeout(() => { log.push('b'); done(log); }, 30); m.setTimeout(() => log.push('a'), 10);`);
  scenario(`m.setTimeout(() => log.push(1), 5); m.setTimeout(() => log.push(2), 5); m.setTimeout(() => { log.push(3); done(log); }, 5);`);
  scenario(`m.setTimeout(() => { log.push('timeout'); done(log); }, 0); m.setImmediate(() => log.push('immediate 1')); m.setImmediate(() => log.push('immediate 2'));`);
  scenario(`m.setImmediate(() => { log.push('i1'); m.setImmediate(() => { log.push('i3'); done(log); }); }); m.setImmediate(() => log.push('i2'));`);
  scenario(`m.setImmediate((a, b) => log.push([a, b])); m.setTimeout((...args) => { log.push(args); done(log); }, 5, 'x', 2, null);`);
  scenario(`const t = m.setTimeout(() => log.push('cleared'), 5); m.clearTimeout(t); m.setTimeout(() => { log.push('kept', t._destroyed); done(log); }, 15);`);
  scenario(`const t = m.setTimeout(() => log.push('cleared by id'), 5); m.clearTimeout(+t); m.clearTimeout(\`\${t}\`); m.setTimeout(() => { log.push(typeof +t); done(log); }, 15);`);
  scenario(`const i = m.setImmediate(() => log.push('cleared')); m.clearImmediate(i); m.setImmediate(() => { log.push('kept'); done(log); });`);
  scenario(`let n = 0; const iv = m.setInterval(() => { log.push('tick ' + ++n); if (n === 3) { m.clearInterval(iv); m.setTimeout(() => { log.push('after'); done(log); }, 40); } }, 10);`);
  scenario(`let n = 0; const iv = m.setInterval(function () { log.push(this === iv); if (++n === 2) { m.clearTimeout(this); done(log); } }, 5);`);
  scenario(`const t = m.setTimeout(() => { log.push('refreshed fired'); done(log); }, 30); m.setTimeout(() => { log.push('refresh'); t.refresh(); }, 20); m.setTimeout(() => log.push('before'), 40);`);
  scenario(`const t = m.setTimeout(() => log.push('x'), 5); log.push([t.hasRef(), t.unref() === t, t.hasRef(), t.ref() === t, t.hasRef()]); m.setTimeout(() => done(log), 15);`);
  scenario(`const i = m.setImmediate(() => {}); log.push([i.hasRef(), i.unref() === i, i.hasRef(), i.ref().hasRef()]); m.setImmediate(() => done(log));`);
  scenario(`m.setTimeout(() => { log.push('outer'); m.setImmediate(() => log.push('imm from timer')); m.setTimeout(() => { log.push('timeout from timer'); done(log); }, 0); }, 5);`);
  scenario(`m.setTimeout(() => { log.push('t1'); Promise.resolve().then(() => log.push('micro after t1')); }, 5); m.setTimeout(() => { log.push('t2'); done(log); }, 5);`);
  scenario(`m.setImmediate(() => { log.push('i1'); Promise.resolve().then(() => log.push('micro after i1')); }); m.setImmediate(() => { log.push('i2'); done(log); });`);
  scenario(`m.setTimeout(() => log.push('unrefed, due first'), 5).unref(); m.setTimeout(() => { log.push('refed'); done(log); }, 20);`);
  scenario(`m.setTimeout(() => log.push('a'), 10); m.setTimeout(() => log.push('b'), 5); m.setImmediate(() => log.push('c')); m.setTimeout(() => { log.push('d'); done(log); }, 30);`);
  scenario(`const t = m.setTimeout(() => {}, 5); log.push([typeof t[Symbol.toPrimitive], typeof t.ref, typeof t.refresh, t._idleTimeout, t._repeat]); const iv = m.setInterval(() => {}, 7); log.push([iv._idleTimeout, iv._repeat]); m.clearInterval(iv); m.clearTimeout(t); done(log);`);
  scenario(`const a = m.setTimeout(() => {}, -5); const b = m.setTimeout(() => {}, 'abc'); const c = m.setTimeout(() => {}, 1.5); const d = m.setTimeout(() => {}); log.push([a._idleTimeout, b._idleTimeout, c._idleTimeout, d._idleTimeout]); [a, b, c, d].forEach((t) => m.clearTimeout(t)); done(log);`);
  scenario(`m.clearTimeout(null); m.clearTimeout(undefined); m.clearTimeout({}); m.clearTimeout(123456); m.clearImmediate(null); m.clearInterval('x'); log.push('ok'); done(log);`);
  scenario(`const t = m.setTimeout(() => { log.push('once'); }, 5); m.setTimeout(() => { t.refresh(); log.push('refresh after fire'); }, 15); m.setTimeout(() => { log.push('end'); done(log); }, 40);`);
  scenario(`const t = m.setTimeout(() => { log.push('fires'); }, 5); m.setTimeout(() => { m.clearTimeout(t); t.refresh(); m.setTimeout(() => { log.push('end'); done(log); }, 20); }, 1);`);
  scenario(`try { m.setTimeout('code', 1); } catch (e) { log.push([e.name, e.code, e.message]); } try { m.setImmediate(); } catch (e) { log.push([e.code, e.message]); } try { m.setInterval(null); } catch (e) { log.push(e.message); } done(log);`);
  add(`(m) => [typeof m.setTimeout, typeof m.clearTimeout, typeof m.setInterval, typeof m.clearInterval, typeof m.setImmediate, typeof m.clearImmediate, typeof m.promises.setTimeout]`);
  add(`(m, require) => { const util = require('util'); return [util.promisify(m.setTimeout) === m.promises.setTimeout, util.promisify(m.setImmediate) === m.promises.setImmediate, util.promisify.custom in m.setTimeout]; }`);
  add(`(m, require) => require('util').promisify(m.setTimeout)(1, 'value')`);
};
