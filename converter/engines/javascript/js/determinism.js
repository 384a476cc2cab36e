'use strict';
// The seeded stand-in for Math.random shared by the engine and the node
// reference harness (difftest/reference/node/ric.js).
//
// A handler that calls Math.random (A/B splits, sampling, nonces) can only be
// compared across engines if both draw the same numbers. Both sides therefore
// replace Math.random with `createRandom(seed)`: sfc32 (Chris Doty-Humphrey's
// Small Fast Counter), its four words of state filled by splitmix32 from the
// 32-bit seed. Everything is 32-bit integer arithmetic (`| 0`, `>>> 0`,
// Math.imul) and the final division by 2**32 is exact in a double, so V8 and
// QuickJS produce bit-identical sequences.

/**
 * Returns a generator of floats in [0, 1), determined entirely by `seed`
 * (taken modulo 2**32).
 * @param {number} seed
 * @returns {() => number}
 */
function createRandom(seed) {
  let mix = seed >>> 0;
  const splitmix32 = () => {
    mix = (mix + 0x9e3779b9) | 0;
    let z = mix;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };

  let a = splitmix32();
  let b = splitmix32();
  let c = splitmix32();
  let d = splitmix32();

  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };

  // sfc32's first outputs still show the structure of the seed; the reference
  // implementation discards them.
  for (let i = 0; i < 12; i++) next();
  return next;
}

module.exports = { createRandom };
