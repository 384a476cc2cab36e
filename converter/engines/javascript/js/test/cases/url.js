'use strict';
// Cases for js/node/url.js: the WHATWG URL and URLSearchParams, and the legacy
// url.parse / format / resolve that old Lambda@Edge handlers use on request URIs.

module.exports = (add, q) => {
  const fields = `(u) => [u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, String(u), u.toJSON(), JSON.stringify({ u })]`;

  // --- new URL(input) ----------------------------------------------------------
  const absolute = [
    'https://example.com', 'https://example.com/', 'HTTPS://EXAMPLE.COM/A/B?C=D#E', 'http://example.com:80/', 'https://example.com:443/x',
    'http://example.com:8080/x', 'https://example.com:0/', 'https://example.com:65535/', 'https://example.com:65536/', 'http://example.com:/',
    'http://example.com:8a/', 'ws://h:80/', 'wss://h:443/chat', 'ftp://h:21/f', 'ftp://user:pass@ftp.example.com/dir/file.txt',
    'https://user:p%40ss@example.com/', 'https://us er:pa ss@example.com/', 'https://user@example.com', 'https://:pw@example.com/',
    'https://a@b@c/', 'https://@example.com/', 'https://user:@example.com/', 'http://a:b@c:d@e/',
    'https://example.com/a/./b/../c', 'https://example.com/a/b/..', 'https://example.com/a/b/.', 'https://example.com/..', 'https://example.com/a/%2e/b/%2E%2e/c',
    'https://example.com/a//b///c', 'https://example.com\\a\\b', 'https:\\\\example.com\\path', 'https:example.com/x', 'https:/example.com/x', 'https:///example.com/x',
    'https://example.com/a b?c d#e f', 'https://example.com/ü?ü#ü', 'https://example.com/"<>`{}|^', 'https://example.com/?"<>`{}|^\'', 'foo://h/?\'', 'https://example.com/#"<>`{}| ',
    'https://example.com/%zz%41%', 'https://example.com/😀?😀#😀', 'https://example.com/\ud800', 'https://example.com/\t\na\r', '  \t https://example.com/x \n ',
    'https://EXAMPLE.com./', 'https://ex%41mple.com/', 'https://ex%2Fample.com/', 'https://exa mple.com/', 'https://exa<mple.com/', 'https://exa_mple.com/', 'https://ex$ample.com/',
    'http://127.0.0.1/', 'http://127.1/', 'http://0x7f.0.0.1/', 'http://0177.0.0.1/', 'http://2130706433/', 'http://4294967295/', 'http://4294967296/',
    'http://1.2.3.256/', 'http://1.2.3.4.5/', 'http://1.2.3.4./', 'http://1.2.3.08/', 'http://0x/', 'http://09/', 'http://1.2.3.foo/', 'http://foo.1/', 'http://foo.0x1/',
    'http://[::1]/', 'http://[::1]:8080/', 'http://[0:0:0:0:0:0:0:1]/', 'http://[2001:DB8:0:0:1:0:0:1]/', 'http://[2001:db8::1:0:0:1]/', 'http://[1:0:0:2:0:0:0:3]/',
    'http://[::ffff:192.168.0.1]/', 'http://[::]/', 'http://[1::]/', 'http://[::1:2:3:4:5:6:7]/', 'http://[1:2:3:4:5:6:7:8:9]/', 'http://[::1/', 'http://[:1]/', 'http://[1:::2]/', 'http://[g::1]/',
    'http://münchen.de/', 'http://MÜNCHEN.DE/', 'http://faß.de/', 'http://ＥＸＡＭＰＬＥ。com/', 'http://☃.net/', 'http://日本語.jp/', 'http://xn--mnchen-3ya.de/', 'http://xn--a.com/',
    'http://a\u00ad.com/', 'http://-a.com/', 'http://a-.com/',
    'file:///var/task/index.js', 'file://localhost/etc/passwd', 'file://host/share/x', 'file:/x/y', 'file:x', 'file:///C:/Windows/', 'file:///c|/x', 'file:///a/../../b', 'file://LOCALHOST/x', 'FILE:///X',
    'mailto:user@example.com', 'data:text/plain,hello world', 'data:,a b?c d#e f', 'javascript:alert(1)', 'urn:isbn:0451450523', 'blob:https://example.com/uuid', 'blob:foo:bar',
    'foo://host/path', 'foo://HOST/Path', 'foo://h:99999/', 'foo://h:12/', 'foo:/path', 'foo:///path', 'foo://', 'foo://@h', 'foo://a b/', 'foo://h%20/', 'foo://[::1]/', 'foo://ü/',
    'git+ssh://git@github.com/user/repo.git', 'sc://ñ.test/', 'non-special://test:@test/x', 'a1+-.b:c',
    '', ' ', 'example.com', '/relative', '//example.com/x', 'http://', 'http:///', 'https://', '1http://x/', 'ht tp://x/', ':foo', 'http://ex ample.com/',
    'http://example.com:99999', 'http://user:pass@/', 'http:', 'https://example.com/a?b?c#d#e', 'https://example.com?', 'https://example.com#', 'https://example.com?#',
  ];
  for (const input of absolute) {
    add(`(m) => (${fields})(new m.URL(${q(input)}))`);
    add(`(m) => m.URL.canParse(${q(input)})`);
  }

  // --- new URL(input, base) ----------------------------------------------------
  const base = 'https://user:pw@example.com:8443/a/b/c?q=1#frag';
  const relatives = [
    '', '.', './', '..', '../', '../..', '../../../../x', 'd', 'd/', './d', '../d', '/d', '//other.com/d', '///d', '?x=2', '#h', '?', '#',
    'd?x#y', 'http:d', 'https:d', 'http:/d', 'https:/d', 'http://h2/d', 'mailto:x', '\\d', '\\\\other\\d', '/../d', '/./d', '%2e%2E/d', 'd/%2e', 'd/..',
    ' d ', 'a b', 'ü', 'file:x', 'foo:bar', 'javascript:void(0)',
  ];
  for (const rel of relatives) {
    add(`(m) => (${fields})(new m.URL(${q(rel)}, ${q(base)}))`);
  }
  const basePairs = [
    ['x', 'file:///var/task/index.js'], ['../x', 'file:///var/task/a/b'], ['/x', 'file://host/a'], ['C:/x', 'file:///D:/a'], ['x', 'file:///C:/a'], ['..', 'file:///C:/'],
    ['x', 'foo://h/a/b'], ['../x', 'foo://h/a/b'], ['x', 'foo:/a/b'], ['#x', 'mailto:a@b'], ['x', 'mailto:a@b'], ['x', 'data:,a'],
    ['/images/a.png', 'https://d111111abcdef8.cloudfront.net/index.html'], ['https://x.com', 'not a url'], ['x', ''], ['//h', 'foo:/a'],
  ];
  for (const [input, b] of basePairs) {
    add(`(m) => (${fields})(new m.URL(${q(input)}, ${q(b)}))`);
    add(`(m) => m.URL.canParse(${q(input)}, ${q(b)})`);
  }
  add(`(m) => (${fields})(new m.URL('x', new m.URL('https://h/a/b')))`);
  add(`(m) => (${fields})(new m.URL(new m.URL('https://h/a?b#c')))`);
  add(`(m) => (${fields})(new m.URL({ toString() { return 'https://obj.example/'; } }))`);
  add(`(m) => new m.URL()`);
  add(`(m) => m.URL.canParse()`);
  add(`(m) => { try { new m.URL('nope'); } catch (e) { return [e.name, e.code, e.message, e.input, 'base' in e, e instanceof TypeError]; } }`);
  add(`(m) => { try { new m.URL('nope', 'also nope'); } catch (e) { return [e.name, e.code, e.message, e.input, e.base]; } }`);
  add(`(m) => { const u = new m.URL('https://h/'); return [Object.keys(u), typeof u.searchParams, u instanceof m.URL, Object.prototype.toString.call(u)]; }`);

  // --- setters -----------------------------------------------------------------
  const setters = [
    ['https://a.com/p?q#h', 'href', 'http://b.com:81/x?y#z'], ['https://a.com/p?q#h', 'href', 'nope'],
    ['https://a.com/p', 'protocol', 'http'], ['https://a.com/p', 'protocol', 'HTTP:'], ['https://a.com/p', 'protocol', 'ftp://x'], ['https://a.com/p', 'protocol', 'foo'],
    ['foo://a.com/p', 'protocol', 'https'], ['foo://a.com/p', 'protocol', 'bar'], ['https://a.com:80/p', 'protocol', 'http'], ['http://a.com:443/p', 'protocol', 'https'],
    ['https://a.com/p', 'protocol', 'file'], ['file:///p', 'protocol', 'https'], ['https://a.com/p', 'protocol', '1x'], ['https://a.com/p', 'protocol', ''],
    ['https://a.com/p', 'username', 'us er@x'], ['https://a.com/p', 'password', 'p:w/@'], ['https://u:p@a.com/p', 'username', ''], ['https://u:p@a.com/p', 'password', ''],
    ['file:///p', 'username', 'x'], ['mailto:x', 'username', 'x'],
    ['https://a.com/p', 'host', 'b.com:8080'], ['https://a.com/p', 'host', 'B.COM'], ['https://a.com/p', 'host', 'b.com:443'], ['https://a.com/p', 'host', 'b.com/x'],
    ['https://a.com/p', 'host', ''], ['https://a.com/p', 'host', 'a b'], ['https://a.com/p', 'host', '[::1]:9'], ['https://a.com:99/p', 'host', 'b.com'], ['foo://a.com/p', 'host', ''],
    ['https://a.com/p', 'hostname', 'b.com'], ['https://a.com/p', 'hostname', 'b.com:90'], ['https://a.com:99/p', 'hostname', 'c.com'], ['https://a.com/p', 'hostname', '1.2.3'],
    ['file:///p', 'host', 'server'], ['file://server/p', 'host', 'localhost'], ['mailto:x@y', 'host', 'z'],
    ['https://a.com/p', 'port', '8080'], ['https://a.com/p', 'port', '443'], ['https://a.com:8080/p', 'port', ''], ['https://a.com/p', 'port', '80x'], ['https://a.com/p', 'port', 'x'],
    ['https://a.com/p', 'port', '70000'], ['https://a.com/p', 'port', 8081], ['file:///p', 'port', '1'], ['https://a.com/p', 'port', '-1'],
    ['https://a.com/p', 'pathname', '/x y/ü/../z'], ['https://a.com/p', 'pathname', 'noslash'], ['https://a.com/p', 'pathname', ''], ['https://a.com/p', 'pathname', '/a?b#c'],
    ['https://a.com/p', 'pathname', '\\\\x\\\\y'], ['foo://h/p', 'pathname', 'x'], ['mailto:x', 'pathname', 'y'],
    ['https://a.com/p', 'search', 'a=1&b=2'], ['https://a.com/p', 'search', '?a=1'], ['https://a.com/p?x', 'search', ''], ['https://a.com/p', 'search', '?'], ['https://a.com/p', 'search', 'a b#c\''],
    ['https://a.com/p', 'hash', 'frag'], ['https://a.com/p', 'hash', '#frag ment'], ['https://a.com/p#x', 'hash', ''], ['https://a.com/p', 'hash', '#'],
  ];
  for (const [href, prop, value] of setters) {
    add(`(m) => { const u = new m.URL(${q(href)}); u.${prop} = ${q(value)}; return (${fields})(u); }`);
  }

  // --- searchParams, live ------------------------------------------------------
  const live = [
    `const u = new m.URL('https://h/p?a=1&b=2&a=3'); const s = u.searchParams; return [s.get('a'), s.getAll('a'), s.has('b'), s.size, [...s], u.search]`,
    `const u = new m.URL('https://h/p?a=1#f'); u.searchParams.append('b', 'x y'); u.searchParams.set('a', '€'); return [u.href, u.search]`,
    `const u = new m.URL('https://h/p?a=1'); u.searchParams.delete('a'); return [u.href, u.search, u.searchParams.size]`,
    `const u = new m.URL('https://h/p?a=1'); const s = u.searchParams; u.search = '?z=9&y=8'; return [s.get('z'), [...s.keys()], u.href]`,
    `const u = new m.URL('https://h/p?a=1'); const s = u.searchParams; u.href = 'https://h/q?k=v'; return [s.toString(), u.search]`,
    `const u = new m.URL('https://h/p?b=2&a=1&c=3&a=0'); u.searchParams.sort(); return u.href`,
    `const u = new m.URL('https://h/p?q=a+b%20c%2Bd'); return [u.searchParams.get('q'), u.search]`,
    `const u = new m.URL('https://h/p?%zz=%E9'); return [...u.searchParams]`,
    `const u = new m.URL('https://h/p?a=1'); u.searchParams.set('redirect', 'https://x.com/?a=b&c=d'); return u.href`,
    `const u = new m.URL('https://h/p'); return [u.searchParams === u.searchParams, u.searchParams.toString()]`,
  ];
  for (const body of live) add(`(m) => { ${body}; }`);

  // --- URLSearchParams ---------------------------------------------------------
  const inits = [
    `''`, `'?'`, `'a=1&b=2'`, `'?a=1&a=2'`, `'a'`, `'a='`, `'=b'`, `'&&a=1&&'`, `'a=b=c'`, `'a+b=c+d'`, `'%61=%62'`, `'a=%zz%'`, `'a=%F0%9F%98%80'`, `'a=%C3'`,
    `'ü=€'`, `'a=\\ud800'`, `'?a=1#b'`, `'q=caf%C3%A9&page=2&sort=price%3Adesc'`,
    `{ a: '1', b: 2, c: true, d: null, e: undefined }`, `{ 'a b': 'c&d' }`, `[['a', '1'], ['b', '2'], ['a', '3']]`, `new Map([['x', 'y']])`, `[new Set(['k', 'v'])]`,
    `undefined`, `null`, `123`, `true`, `[]`, `{}`, `[['a']]`, `[['a', 'b', 'c']]`, `[1]`, `[null]`, `{ [Symbol.iterator]: 1 }`, `Object.create({ inherited: 1 })`,
  ];
  for (const init of inits) {
    add(`(m) => { const s = new m.URLSearchParams(${init}); return [s.toString(), [...s], s.size]; }`);
  }
  const spOps = [
    `const s = new m.URLSearchParams('a=1&b=2&a=3'); s.append('c', '4'); s.append('a', '5'); return s.toString()`,
    `const s = new m.URLSearchParams('a=1&b=2&a=3'); s.delete('a'); return s.toString()`,
    `const s = new m.URLSearchParams('a=1&b=2&a=3'); s.delete('a', '3'); return s.toString()`,
    `const s = new m.URLSearchParams('a=1&b=2&a=3'); s.set('a', 'x'); return s.toString()`,
    `const s = new m.URLSearchParams('a=1'); s.set('z', 'y'); return s.toString()`,
    `const s = new m.URLSearchParams('a=1&b=2'); return [s.get('a'), s.get('zz'), s.getAll('zz'), s.has('a'), s.has('a', '2'), s.has('a', '1'), s.has('zz')]`,
    `const s = new m.URLSearchParams('z=1&a=2&m=3&a=1&A=0&é=1&e=2'); s.sort(); return s.toString()`,
    `const s = new m.URLSearchParams('\\ud83d\\ude00=1&\\uffff=2&a=3'); s.sort(); return [...s.keys()]`,
    `const s = new m.URLSearchParams('a=1&b=2'); const out = []; s.forEach(function (v, k, o) { out.push([k, v, o === s, this.t]); }, { t: 1 }); return out`,
    `const s = new m.URLSearchParams('a=1&b=2'); const out = []; s.forEach((v, k) => { out.push(k); if (k === 'a') s.append('c', '3'); }); return out`,
    `const s = new m.URLSearchParams('a=1&b=2'); return [[...s.keys()], [...s.values()], [...s.entries()], [...s]]`,
    `const s = new m.URLSearchParams('a=1&b=2'); const it = s.keys(); const first = it.next(); s.delete('a'); return [first, it.next(), Object.prototype.toString.call(it)]`,
    `const s = new m.URLSearchParams(); s.append('sp ace', 'a+b&c=d/é~!*\\'()'); return s.toString()`,
    `const s = new m.URLSearchParams(); for (let i = 0; i < 128; i++) s.append(String.fromCharCode(i), ''); return s.toString()`,
    `const s = new m.URLSearchParams(); s.append('x', '\\ud800'); return s.toString()`,
    `const s = new m.URLSearchParams('a=1'); return [String(s), Object.prototype.toString.call(s), Object.keys(s), s instanceof m.URLSearchParams]`,
    `const a = new m.URLSearchParams('a=1'); const b = new m.URLSearchParams(a); b.append('b', '2'); return [a.toString(), b.toString()]`,
    `const s = new m.URLSearchParams(); s.append('a')`,
    `const s = new m.URLSearchParams(); s.get()`,
    `const s = new m.URLSearchParams(); s.set('a')`,
    `const s = new m.URLSearchParams(); s.forEach(1)`,
    `return m.URLSearchParams.prototype.get.call({}, 'a')`,
    `const s = new m.URLSearchParams(); s.append(1, 2); s.append(null, undefined); return s.toString()`,
  ];
  for (const body of spOps) add(`(m) => { ${body}; }`);

  // --- legacy url.parse --------------------------------------------------------
  const legacy = [
    '/index.html', '/path/to/page?x=1&y=2', '/search?q=hello+world&lang=en', '/a%20b/c%2Fd?e=%26f', '/a b/c?d e', '/path?x=1#frag', '/#only-hash',
    '/?', '/?#', '?a=1', '#h', '', '   ', ' /trim ', 'relative/path', './x', '../x', 'x?y', '//cdn.example.com/lib.js', '//user@host/p',
    '/images/😀.png', '/ü?ü=ü', '/\\back\\slash?\\q', '/a\\b#c\\d', '/"quotes"/<tags>/`tick`/{braces}|pipe^caret', "/it's", '/tab\there', '/line\nbreak',
    'http://example.com', 'http://example.com/', 'HTTP://EXAMPLE.COM/Path?Q=1#H', 'https://user:pass@example.com:8080/p/a/t/h?query=string#hash',
    'https://d111111abcdef8.cloudfront.net/images/a.jpg?w=100', 'http://user@host', 'http://user:@host', 'http://:pw@host', 'http://a@b@c/d', 'http://a@b?@c', 'http://a%20b@host/',
    'http://host:8080', 'http://host:', 'http://host:abc/', 'http://[::1]:3000/x', 'http://[fe80::1%25en0]/', 'http://127.0.0.1:8000/', 'http://ex ample.com/', 'http://exa_mple.com/x',
    'http://münchen.de/a', 'http://EXAMPLE.com./', 'http://a.b.c.d.e.f/', 'http://host/p?a=1?b=2#c#d', 'http://host?x', 'http://host#x', 'http://host;param/x', 'http://x.com\\y\\z',
    'mailto:user@example.com', 'mailto:user@example.com?subject=hi', 'javascript:alert("x y")', 'data:text/plain,hi there', 'file:///var/task/x.js', 'file://localhost/etc',
    'file:relative', 'ftp://ftp.example.com/pub', 'ws://socket.example.com/chat', 'git+ssh://git@github.com:user/repo.git', 'foo://bar/baz', 'foo:bar', 'urn:isbn:123',
    'http://host/' + 'a'.repeat(300), 'http://' + 'a'.repeat(256) + '.com/', 'HtTp://ExAmPlE.cOm:80/', 'http://host/p\u00a0q', '\u00a0http://host/', '\ufeffhttp://host/',
  ];
  for (const input of legacy) {
    add(`(m) => m.parse(${q(input)})`);
    add(`(m) => m.parse(${q(input)}, true)`);
    add(`(m) => m.parse(${q(input)}, false, true)`);
    add(`(m) => m.format(m.parse(${q(input)}))`);
  }
  add(`(m) => m.parse(123)`);
  add(`(m) => m.parse()`);
  add(`(m) => { const u = m.parse('/a?b=1'); return [m.parse(u) === u, u instanceof m.Url, Object.keys(u)]; }`);
  add(`(m) => m.parse('http://x\u0000y.com/')`);
  add(`(m) => { const u = m.parse('/p?a=1&a=2&b=%20', true); return [u.query.a, u.query.b, Object.getPrototypeOf(u.query)]; }`);

  // --- legacy url.format -------------------------------------------------------
  const formats = [
    `{ protocol: 'https', hostname: 'example.com', pathname: '/x', query: { a: 1, b: ['c', 'd'] } }`,
    `{ protocol: 'https:', host: 'example.com:8080', pathname: 'no-slash', search: 'a=1', hash: 'h' }`,
    `{ protocol: 'http', hostname: '::1', port: 80, pathname: '/' }`,
    `{ protocol: 'mailto', auth: 'user', hostname: 'example.com' }`,
    `{ protocol: 'mailto:', pathname: 'user@example.com' }`,
    `{ protocol: 'file', pathname: '/etc/passwd' }`,
    `{ protocol: 'foo', slashes: true, host: 'h', pathname: 'p' }`,
    `{ auth: 'us er:p@ss', host: 'h', pathname: '/a?b#c' }`,
    `{ pathname: '/a', search: '?x=1#y', hash: '#z' }`,
    `{ query: { a: 'b c' } }`,
    `{ query: 'ignored=1' }`,
    `{ host: '', hostname: 'h' }`,
    `{}`,
    `'http://Example.com/a b?c d#e'`,
  ];
  for (const f of formats) add(`(m) => m.format(${f})`);
  add(`(m) => m.format(null)`);
  add(`(m) => m.format(42)`);
  const whatwgFormats = [
    `undefined`, `{}`, `{ fragment: false }`, `{ search: false }`, `{ auth: false }`, `{ unicode: true }`, `{ fragment: false, search: false, auth: false, unicode: true }`,
  ];
  for (const options of whatwgFormats) {
    add(`(m) => m.format(new m.URL('https://us:pw@xn--mnchen-3ya.de:8443/p?q=1#f'), ${options})`);
  }

  // --- legacy url.resolve ------------------------------------------------------
  const resolves = [
    ['http://example.com/a/b/c', 'd'], ['http://example.com/a/b/c', '../d'], ['http://example.com/a/b/c', '/d'], ['http://example.com/a/b/c', '//other.com/d'],
    ['http://example.com/a/b/c', '?q=1'], ['http://example.com/a/b/c', '#h'], ['http://example.com/a/b/c', ''], ['http://example.com/a/b/c', 'https://x.com'],
    ['http://example.com/a/b/', '../../../../d'], ['http://example.com', 'd'], ['http://example.com/a/b/c', '.'], ['http://example.com/a/b/c', '..'], ['/one/two/three', 'four'],
    ['/one/two/three', '../four'], ['one/two', '../../../x'], ['http://a.com/b', 'mailto:x@y'], ['mailto:a@b', 'c@d'], ['mailto:a@b', '?subject=x'], ['http://u:p@a.com/b', '//c.com/d'],
    ['http://a.com/b?x=1#y', '?z=2'], ['http://a.com/b', 'http:c'], ['http://a.com/b', 'https:c/d'], ['file:///a/b', 'c'], ['http://a.com/b/', './c/./d/../e'],
  ];
  for (const [from, to] of resolves) {
    add(`(m) => m.resolve(${q(from)}, ${q(to)})`);
    add(`(m) => m.resolveObject(${q(from)}, ${q(to)})`);
  }

  // --- files, domains ----------------------------------------------------------
  const filePaths = ['/var/task/index.js', '/var/task/a b#c?d%e.txt', '/tmp/', '/', '/a/../b', '/ü/😀', '/x\\y', '/a~b|c^d[e]'];
  for (const p of filePaths) {
    add(`(m) => m.pathToFileURL(${q(p)}).href`);
    add(`(m) => m.fileURLToPath(m.pathToFileURL(${q(p)}))`);
  }
  const fileUrls = ['file:///var/task/a%20b.txt', 'file://localhost/x', 'file://host/x', 'file:///a%2Fb', 'file:///a%2fb', 'https://x/y', 'file:///%C3%BC'];
  for (const u of fileUrls) {
    add(`(m) => m.fileURLToPath(${q(u)})`);
    add(`(m) => m.fileURLToPath(new m.URL(${q(u)}))`);
  }
  add(`(m) => m.fileURLToPath(42)`);
  add(`(m) => m.pathToFileURL(42)`);
  const domains = ['example.com', 'EXAMPLE.COM', 'münchen.de', 'xn--mnchen-3ya.de', 'faß.de', '☃', 'a b', '', '1.2.3.4', '0x7f.1', '[::1]', 'xn--a', 'a..b', 'ä.ö.ü'];
  for (const d of domains) {
    add(`(m) => [m.domainToASCII(${q(d)}), m.domainToUnicode(${q(d)})]`);
  }
  add(`(m) => m.domainToASCII()`);
};
