'use strict';
// Cases for js/node/timers_promises.js (node's timers/promises), run like the
// timers cases: real timers on node, the virtual clock in the engine realm.

module.exports = (add) => {
  add(`(m) => m.setTimeout(10, 'value')`);
  add(`(m) => m.setTimeout(5)`);
  add(`(m) => m.setImmediate('now')`);
  add(`(m) => { const log = []; return Promise.all([m.setTimeout(20).then(() => log.push('20')), m.setTimeout(5).then(() => log.push('5')), m.setImmediate().then(() => log.push('immediate'))]).then(() => log); }`);
  add(`(m) => (async () => { const log = []; for (let i = 0; i < 3; i++) { log.push(await m.setTimeout(5, i)); } return log; })()`);
  add(`(m) => m.setTimeout(5, 'x', { ref: true })`);
  add(`(m) => m.setTimeout(5, 'x', 'bad options').catch((e) => [e.name, e.code, e.message])`);
  add(`(m) => m.setImmediate('x', { ref: 1 }).catch((e) => [e.name, e.code, e.message])`);
  // An unref()ed timer still fires while a ref()ed one keeps the loop alive.
  add(`(m) => Promise.all([m.setTimeout(5, 'unrefed', { ref: false }), m.setTimeout(20, 'refed')])`);
};
