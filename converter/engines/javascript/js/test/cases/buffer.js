'use strict';
// atob and btoa, exported by node's `buffer` (and global in node). The rest
// of the buffer cases live in ../vectors.js.

module.exports = (add, q) => {
  const decodeInputs = [
    '', ' ', 'YQ', 'YQ=', 'YQ==', 'YQ===', 'Y Q = =', 'aGVsbG8=', 'aGVsbG8', 'aGVs bG8=\n', 'a', 'ab', 'abc', 'abc=', 'ab=', 'ab==', 'a===', 'ab=c', 'abcde',
    'abcde!', '!', '=', '==', '-_-_', '+/+/', 'a\u000bb', '\u00ff', 'ab\u0100', 'dXNlcjpwYXNz', '\tdXNl\fcjpw\rYXNz ', '////', 'AAAA', 'eyJhbGciOiJIUzI1NiJ9',
  ];
  for (const s of decodeInputs) add(`(m) => m.atob(${q(s)})`);
  const encodeInputs = ['', 'a', 'hello', 'user:pass', '\u0000\u00ff', 'é', '€', '😀', '\ud800', 'x'.repeat(100)];
  for (const s of encodeInputs) {
    add(`(m) => m.btoa(${q(s)})`);
    add(`(m) => { try { return m.atob(m.btoa(${q(s)})); } catch (e) { return [e.name, e.message, e.code]; } }`);
  }
  add(`(m) => [m.btoa(123), m.btoa(null), m.btoa(undefined), m.btoa(true), m.btoa({}), m.atob(undefined === 1 ? '' : 'bnVsbA==')]`);
  add(`(m) => m.atob(null)`);
  add(`(m) => m.atob()`);
  add(`(m) => m.btoa()`);
  add(`(m) => { try { m.atob('!'); } catch (e) { return [e.name, e.message, e.code, e instanceof Error]; } }`);
  add(`(m) => [typeof m.SlowBuffer, m.SlowBuffer.length, m.SlowBuffer(3).length, m.SlowBuffer.prototype.constructor === m.SlowBuffer, m.SlowBuffer.prototype === m.Buffer.prototype]`);
  add(`(m) => { const saved = m.SlowBuffer.prototype.equal; m.SlowBuffer.prototype.equal = () => 1; const patched = m.SlowBuffer.prototype.equal(); m.SlowBuffer.prototype.equal = saved; return patched; }`);
};
