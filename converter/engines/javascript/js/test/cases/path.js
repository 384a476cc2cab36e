'use strict';
// Cases for js/node/path.js (POSIX). resolve() and relative() of relative
// paths depend on the working directory (node's here, /var/task in the
// engine), so those cases always start from an absolute path.

module.exports = (add, q) => {
  const paths = [
    '', '/', '//', '///', '.', '..', './', '../', 'a', '/a', 'a/', '/a/', 'a/b', '/a/b/', '/a//b', 'a/./b', 'a/../b', '/a/../../b', '../../a', 'a/../..',
    '/var/task/index.js', '/var/task/node_modules/lib/index.js', './config.json', 'data/a.txt', 'file.tar.gz', '.bashrc', '.bashrc.bak', 'a.', 'a..', '..a', '...',
    '/a/b.c/d', '/a/b.c/d.e', 'a/b/', 'a/b//', '//a', '//a/b', '/a/./', 'a/.', 'a/..', 'foo/bar/baz/asdf/quux/..', '/foo/bar//baz/asdf/quux/..', 'C:\\x\\y.txt', 'a b/c d.e f',
    '/ü/😀.png', '/.', '/..', '/a/.b', '/a/b.', '.a.b', 'a/.b.c',
  ];
  for (const p of paths) {
    add(`(m) => [m.normalize(${q(p)}), m.dirname(${q(p)}), m.basename(${q(p)}), m.extname(${q(p)}), m.isAbsolute(${q(p)}), m.parse(${q(p)}), m.format(m.parse(${q(p)}))]`);
    for (const ext of ['.js', 'js', '.gz', '.tar.gz', 'x', '', 'b', '/']) add(`(m) => m.basename(${q(p)}, ${q(ext)})`);
    add(`(m) => m.resolve('/var/task', ${q(p)})`);
    add(`(m) => m.join('/base', ${q(p)}, 'end')`);
  }
  const joins = [[], [''], ['', ''], ['a', 'b'], ['a', '/b'], ['/a/', '/b/'], ['a', '', 'b'], ['..', 'a'], ['/', '..'], ['a', '../..', 'b'], ['.', '.'], ['/x', './y', '../z/']];
  for (const args of joins) add(`(m) => m.join(...${q(args)})`);
  const resolves = [['/'], ['/a', 'b', 'c'], ['/a', '/b', 'c'], ['/a/b', '../c', './d'], ['/a', '..', '..', '..'], ['/a/', 'b/'], ['/x', '', ''], ['/foo/bar', './baz'], ['/foo/bar', '/tmp/file/'], ['/var/task', 'node_modules', '..', 'index.js']];
  for (const args of resolves) add(`(m) => m.resolve(...${q(args)})`);
  const relatives = [
    ['/a/b/c', '/a/b/c'], ['/a/b/c', '/a/b'], ['/a/b', '/a/b/c'], ['/a/b/c', '/a/d'], ['/', '/a'], ['/a', '/'], ['/a/b', '/c/d'], ['/data/orandea/test/aaa', '/data/orandea/impl/bbb'],
    ['/foo/bar/baz-quux', '/foo/bar/baz'], ['/foo/bar/baz', '/foo/bar/baz-quux'], ['/baz-quux', '/baz'], ['/page1/page2/foo', '/'], ['/var/task/', '/var/task/a/b'], ['/a//b', '/a/b/c'],
  ];
  for (const [from, to] of relatives) add(`(m) => m.relative(${q(from)}, ${q(to)})`);
  const formats = [
    `{ root: '/', dir: '/home/user/dir', base: 'file.txt' }`, `{ root: '/', base: 'file.txt', ext: 'ignored' }`, `{ root: '/', name: 'file', ext: '.txt' }`,
    `{ name: 'file', ext: 'txt' }`, `{ dir: 'd', name: 'n' }`, `{ root: '/x/', dir: '/x/' , base: 'b' }`, `{}`, `{ base: '' }`, `{ ext: '.e' }`,
  ];
  for (const f of formats) add(`(m) => m.format(${f})`);
  const errors = [
    `m.join('a', 1)`, `m.join(null)`, `m.resolve('/a', {})`, `m.normalize(undefined)`, `m.dirname(1)`, `m.basename('a', 1)`, `m.basename(1, 'a')`, `m.extname([])`,
    `m.isAbsolute(null)`, `m.relative('/a', 2)`, `m.relative(1, '/a')`, `m.parse(true)`, `m.format(null)`, `m.format('x')`, `m.resolve(Symbol('s'))`, `m.join('a', 1n)`,
  ];
  for (const e of errors) add(`(m) => ${e}`);
  add(`(m) => [m.sep, m.delimiter, m.posix === m, m.posix.join('a', 'b'), m.win32.sep, m.win32.delimiter, m.toNamespacedPath('/a/../b'), m._makeLong('x')]`);
};
