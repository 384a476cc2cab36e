'use strict';
// Cases for js/node/fs.js over the fixture in ../vectors.js (bundledFiles):
// node reads the same files with its real fs from a temporary directory that
// stands in for /var/task. Stats are compared on what the engine models.

module.exports = (add, q) => {
  const st = `(s) => s === undefined ? 'none' : [s.isFile(), s.isDirectory(), s.isSymbolicLink(), s.size > 0 || s.isFile() ? s.size : 'dir']`;
  const paths = [
    '/var/task/config.json', '/var/task/data/a.txt', '/var/task/data/b.bin', '/var/task/data/nested/deep.txt', '/var/task/empty.txt', '/var/task/index.js',
    'config.json', './data/a.txt', 'data/../config.json', '/var/task/data/./a.txt', '/var/task/missing.txt', 'missing.txt', '/var/task/data', '/var/task/data/',
    '/var/task', 'data', '/var/task/config.json/', '/var/task/config.json/x', '/var/task/node_modules/lib/package.json', '/var/task/data/nested/none/x.txt',
  ];
  for (const p of paths) {
    add(`(m) => m.readFileSync(${q(p)})`);
    add(`(m) => m.readFileSync(${q(p)}, 'utf8')`);
    add(`(m) => m.readFileSync(${q(p)}, { encoding: 'base64' })`);
    add(`(m) => m.existsSync(${q(p)})`);
    add(`(m) => (${st})(m.statSync(${q(p)}))`);
    add(`(m) => (${st})(m.lstatSync(${q(p)}))`);
    add(`(m) => (${st})(m.statSync(${q(p)}, { throwIfNoEntry: false }))`);
    add(`(m) => m.readdirSync(${q(p)})`);
    add(`(m) => new Promise((resolve) => m.readFile(${q(p)}, 'utf8', (err, data) => resolve(err ? ['err', err.message, err.code, err.errno, err.syscall, err.path] : ['ok', data])))`);
    add(`(m) => m.promises.readFile(${q(p)}).then((b) => b.toString('hex'))`);
    add(`(m) => { m.accessSync(${q(p)}, m.constants.R_OK); return 'readable'; }`);
  }
  const more = [
    `(m) => JSON.parse(m.readFileSync('/var/task/config.json', 'utf8')).paths`,
    `(m) => m.readFileSync('/var/task/data/a.txt', { encoding: 'latin1', flag: 'r' })`,
    `(m) => m.readFileSync('/var/task/data/a.txt', null)`,
    `(m) => m.readFileSync('/var/task/data/a.txt', 'bogus')`,
    `(m) => m.readFileSync('/var/task/data/a.txt', { encoding: 'nope' })`,
    `(m) => m.readFileSync({})`,
    `(m) => m.readFileSync(undefined)`,
    `(m) => m.readFileSync(123456)`,
    // The engine realm has no URL global; a URL-shaped object is what fs checks for.
    `(m) => m.readFileSync({ href: 'file:///var/task/data/a.txt', protocol: 'file:', hostname: '', pathname: '/var/task/data/a.txt' }, 'utf8')`,
    `(m) => m.readFileSync({ href: 'https://example.com/x', protocol: 'https:', hostname: 'example.com', pathname: '/x' })`,
    `(m) => { const a = m.readFileSync('/var/task/data/a.txt'); a[0] = 0; return m.readFileSync('/var/task/data/a.txt', 'utf8'); }`,
    `(m) => m.readdirSync('/var/task/data', { withFileTypes: true }).map((d) => [d.name, d.isFile(), d.isDirectory()])`,
    `(m) => m.readdirSync('/var/task/node_modules')`,
    `(m) => m.existsSync()`,
    `(m) => m.existsSync(42)`,
    `(m) => m.existsSync(null)`,
    `(m) => m.readFile('/var/task/data/a.txt')`,
    `(m) => m.readFile(42, () => {})`,
    `(m) => new Promise((resolve) => { const order = []; m.readFile('/var/task/data/a.txt', (err, data) => { order.push('callback'); resolve([order, err, data]); }); order.push('after call'); })`,
    `(m) => [typeof m.promises.readFile, typeof m.promises.stat, typeof m.promises.readdir]`,
    `(m) => m.promises.readFile('/var/task/missing.json', 'utf8').catch((e) => [e.message, e.code, e.errno, e.syscall, e.path])`,
    `(m) => m.promises.readFile('/var/task/data').catch((e) => [e.message, e.code, e.errno, e.syscall, 'path' in e])`,
    `(m) => [m.constants.F_OK, m.constants.R_OK, m.constants.W_OK, m.constants.X_OK, m.constants.O_RDONLY, m.constants.O_CREAT, m.constants.S_IFREG, m.constants.S_IFDIR, m.F_OK, m.R_OK]`,
    `(m) => m.writeFileSync('/var/task/out.txt', 'data')`,
    `(m) => m.writeFileSync('/var/task/config.json', 'data')`,
    `(m) => m.appendFileSync('/var/task/log.txt', 'line')`,
    `(m) => m.mkdirSync('/var/task/newdir')`,
    `(m) => m.unlinkSync('/var/task/config.json')`,
    `(m) => m.renameSync('/var/task/config.json', '/var/task/config2.json')`,
    `(m) => m.copyFileSync('/var/task/config.json', '/var/task/copy.json')`,
    `(m) => m.rmdirSync('/var/task/data')`,
    `(m) => m.writeFileSync('relative.txt', 'x')`,
    `(m) => new Promise((resolve) => m.writeFile('/var/task/x.txt', 'x', (err) => resolve([err.message, err.code, err.errno, err.syscall, err.path])))`,
    `(m) => m.promises.writeFile('/var/task/x.txt', 'x').catch((e) => [e.message, e.code, e.errno, e.syscall, e.path])`,
  ];
  for (const source of more) add(source);
};
