'use strict';
// Node's `fs` module for the QuickJS engine: a read-only view of the files
// bundled with the function, as Lambda's /var/task is read-only.
//
// The engine provides the files through `edgeport:files` (read(absolutePath)
// -> Uint8Array | undefined, list() -> every bundled file's absolute path).
// Directories are the ones those paths imply. Relative paths resolve against
// /var/task, Lambda's working directory. Failures are shaped like node's
// (uvException: message, errno, code, syscall, path), and every function
// that would write fails with EROFS as on a read-only mount — /tmp included,
// which the engine does not provide.
//
// Left out: file descriptors (open/read/close; a number as a path is EBADF),
// streams (createReadStream is unsupported; createWriteStream throws EROFS at
// once where node would emit it), watch, realpath of symlinks, Buffer paths
// in results, readdir's `recursive` option. Stats carry real `size`, `mode`
// (0o100444 files, 0o40555 directories) and is*() answers; times are the
// epoch and the ids zero.
//
// Checked against the real module by ../test/vectors.js.

const { Buffer } = require('buffer');
const pathModule = require('path');
const files = require('edgeport:files');
const { nodeError, errInvalidArgType, validateFunction } = require('edgeport:errors');

const UV = {
  ENOENT: [-2, 'no such file or directory'],
  EBADF: [-9, 'bad file descriptor'],
  ENOTDIR: [-20, 'not a directory'],
  EISDIR: [-21, 'illegal operation on a directory'],
  EROFS: [-30, 'read-only file system'],
};

// Node's uvException: "CODE: description, syscall 'path' -> 'dest'".
function uvError(code, syscall, path, dest) {
  const [errno, description] = UV[code];
  let message = `${code}: ${description}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const error = new Error(message);
  error.errno = errno;
  error.code = code;
  error.syscall = syscall;
  if (path !== undefined) error.path = path;
  if (dest !== undefined) error.dest = dest;
  return error;
}

// The bundled tree, built on first use: file path -> true, directory path -> Set of names.
let tree = null;
function getTree() {
  if (tree !== null) return tree;
  const fileSet = new Set(files.list());
  const dirs = new Map([['/', new Set()]]);
  for (const file of fileSet) {
    let child = file;
    for (let dir = pathModule.dirname(file); ; dir = pathModule.dirname(dir)) {
      if (!dirs.has(dir)) dirs.set(dir, new Set());
      dirs.get(dir).add(pathModule.basename(child));
      if (dir === '/') break;
      child = dir;
    }
  }
  tree = { fileSet, dirs };
  return tree;
}

function isURLLike(value) {
  return value != null && value.href && value.protocol && value.auth === undefined && value.path === undefined;
}

// The path as node shows it in errors, and the absolute path to look up.
function toPath(value, name = 'path') {
  let shown;
  if (typeof value === 'string') shown = value;
  else if (Buffer.isBuffer(value)) shown = value.toString();
  else if (isURLLike(value)) shown = require('url').fileURLToPath(value);
  else throw errInvalidArgType(name, ['string', 'Buffer', 'URL'], value);
  return { shown, absolute: pathModule.resolve(shown), trailingSlash: shown.endsWith('/') };
}

function lookup(p) {
  const { fileSet, dirs } = getTree();
  if (fileSet.has(p.absolute)) return p.trailingSlash ? 'notdir' : 'file';
  if (dirs.has(p.absolute)) return 'dir';
  // A path through a file ('/var/task/a.txt/x') is ENOTDIR in node.
  for (let dir = pathModule.dirname(p.absolute); dir !== '/'; dir = pathModule.dirname(dir)) {
    if (fileSet.has(dir)) return 'notdir';
  }
  return null;
}

function getEncoding(options) {
  let encoding = null;
  let flag = 'r';
  if (typeof options === 'string') {
    encoding = options;
  } else if (options != null && typeof options === 'object') {
    if (options.encoding != null) encoding = options.encoding;
    if (options.flag != null) flag = options.flag;
  } else if (options != null && typeof options !== 'function') {
    throw errInvalidArgType('options', ['string', 'Object'], options);
  }
  if (encoding !== null && encoding !== 'buffer' && !Buffer.isEncoding(encoding)) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'encoding' is invalid encoding. Received ${inspectString(encoding)}`);
  }
  return { encoding: encoding === 'buffer' ? null : encoding, flag };
}

function inspectString(value) {
  return typeof value === 'string' ? `'${value.replace(/'/g, "\\'")}'` : String(value);
}

function readFileSync(path, options) {
  const { encoding, flag } = getEncoding(options);
  if (typeof path === 'number') throw uvError('EBADF', 'fstat');
  const p = toPath(path);
  if (/[wa+]/.test(flag)) throw uvError('EROFS', 'open', p.shown);
  const kind = lookup(p);
  if (kind === null) throw uvError('ENOENT', 'open', p.shown);
  if (kind === 'notdir') throw uvError('ENOTDIR', 'open', p.shown);
  if (kind === 'dir') throw uvError('EISDIR', 'read');
  const bytes = files.read(p.absolute);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // A copy: callers may modify what they get.
  const result = Buffer.from(buffer);
  return encoding ? result.toString(encoding) : result;
}

function existsSync(path) {
  try {
    const kind = lookup(toPath(path));
    return kind === 'file' || kind === 'dir';
  } catch {
    return false;
  }
}

const EPOCH = new Date(0);

class Stats {
  constructor(isDirectory, size) {
    this.dev = 0;
    this.mode = isDirectory ? 0o40555 : 0o100444;
    this.nlink = 1;
    this.uid = 0;
    this.gid = 0;
    this.rdev = 0;
    this.blksize = 4096;
    this.ino = 0;
    this.size = size;
    this.blocks = Math.ceil(size / 512);
    this.atimeMs = this.mtimeMs = this.ctimeMs = this.birthtimeMs = 0;
    this.atime = this.mtime = this.ctime = this.birthtime = EPOCH;
  }

  isFile() { return (this.mode & 0o170000) === 0o100000; }
  isDirectory() { return (this.mode & 0o170000) === 0o40000; }
  isSymbolicLink() { return false; }
  isBlockDevice() { return false; }
  isCharacterDevice() { return false; }
  isFIFO() { return false; }
  isSocket() { return false; }
}

function stat(path, options, syscall) {
  const p = toPath(path);
  const kind = lookup(p);
  if (kind === null || kind === 'notdir') {
    if (options && options.throwIfNoEntry === false && kind === null) return undefined;
    throw uvError(kind === null ? 'ENOENT' : 'ENOTDIR', syscall, p.shown);
  }
  if (kind === 'dir') return new Stats(true, 4096);
  return new Stats(false, files.read(p.absolute).byteLength);
}

const statSync = (path, options) => stat(path, options, 'stat');
const lstatSync = (path, options) => stat(path, options, 'lstat');

class Dirent {
  constructor(name, parentPath, isDirectory) {
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    Object.defineProperty(this, 'directory', { value: isDirectory });
  }

  isFile() { return !this.directory; }
  isDirectory() { return this.directory; }
  isSymbolicLink() { return false; }
  isBlockDevice() { return false; }
  isCharacterDevice() { return false; }
  isFIFO() { return false; }
  isSocket() { return false; }
}

function readdirSync(path, options) {
  const p = toPath(path);
  const kind = lookup(p);
  if (kind === null) throw uvError('ENOENT', 'scandir', p.shown);
  if (kind !== 'dir') throw uvError('ENOTDIR', 'scandir', p.shown);
  // libuv sorts the names by their bytes.
  const names = [...getTree().dirs.get(p.absolute)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (options && typeof options === 'object' && options.withFileTypes) {
    return names.map((name) => new Dirent(name, p.shown, getTree().dirs.has(pathModule.join(p.absolute, name))));
  }
  return names;
}

function accessSync(path, mode = 0) {
  const p = toPath(path);
  const kind = lookup(p);
  if (kind === null) throw uvError('ENOENT', 'access', p.shown);
  if (kind === 'notdir') throw uvError('ENOTDIR', 'access', p.shown);
  if (mode & 2) throw uvError('EROFS', 'access', p.shown);
}

// Callback and promise forms of a synchronous reader. Node answers after the
// I/O; here the answer comes on a later job, never synchronously.
function callbackForm(fn) {
  return function (...args) {
    // As node's maybeCallback: the last argument after the path.
    const callback = args.length > 1 ? args.pop() : undefined;
    validateFunction(callback, 'cb');
    let result;
    let error = null;
    try {
      result = fn(...args);
    } catch (e) {
      // Bad arguments throw at once, as in node; failed I/O goes to the callback.
      if (e.code === 'ERR_INVALID_ARG_TYPE' || e.code === 'ERR_INVALID_ARG_VALUE') throw e;
      error = e;
    }
    Promise.resolve().then(() => (error ? callback(error) : callback(null, result)));
  };
}

function promiseForm(fn) {
  return async (...args) => fn(...args);
}

// The writers: name -> [syscall, index of the argument node names first in the
// error, index of the `dest` argument or -1].
const WRITERS = {
  writeFile: ['open', 0, -1],
  appendFile: ['open', 0, -1],
  truncate: ['open', 0, -1],
  mkdir: ['mkdir', 0, -1],
  mkdtemp: ['mkdtemp', 0, -1],
  rmdir: ['rmdir', 0, -1],
  rm: ['rm', 0, -1],
  unlink: ['unlink', 0, -1],
  rename: ['rename', 0, 1],
  copyFile: ['copyfile', 0, 1],
  cp: ['cp', 0, 1],
  symlink: ['symlink', 0, 1],
  link: ['link', 0, 1],
  chmod: ['chmod', 0, -1],
  chown: ['chown', 0, -1],
  utimes: ['utime', 0, -1],
};

function readOnlyError(name, args) {
  const [syscall, pathIndex, destIndex] = WRITERS[name];
  const shown = (value) => toPath(value).shown;
  return uvError('EROFS', syscall, shown(args[pathIndex]), destIndex === -1 ? undefined : shown(args[destIndex]));
}

const fs = {
  readFileSync,
  existsSync,
  statSync,
  lstatSync,
  readdirSync,
  accessSync,
  readFile: callbackForm(readFileSync),
  stat: callbackForm(statSync),
  lstat: callbackForm(lstatSync),
  readdir: callbackForm(readdirSync),
  access: callbackForm(accessSync),
  exists(path, callback) {
    validateFunction(callback, 'cb');
    const result = existsSync(path);
    Promise.resolve().then(() => callback(result));
  },
  createReadStream() {
    throw nodeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'The createReadStream() method is not implemented');
  },
  createWriteStream(path) {
    throw uvError('EROFS', 'open', toPath(path).shown);
  },
  Stats,
  Dirent,
  constants: {
    F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1,
    O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_APPEND: 1024,
    S_IFMT: 61440, S_IFREG: 32768, S_IFDIR: 16384, S_IFLNK: 40960,
    COPYFILE_EXCL: 1, COPYFILE_FICLONE: 2, COPYFILE_FICLONE_FORCE: 4,
  },
  promises: {
    readFile: promiseForm(readFileSync),
    stat: promiseForm(statSync),
    lstat: promiseForm(lstatSync),
    readdir: promiseForm(readdirSync),
    access: promiseForm(accessSync),
  },
};
fs.F_OK = 0;
fs.R_OK = 4;
fs.W_OK = 2;
fs.X_OK = 1;
fs.promises.constants = fs.constants;

for (const name of Object.keys(WRITERS)) {
  fs[`${name}Sync`] = (...args) => {
    throw readOnlyError(name, args);
  };
  fs[name] = (...args) => {
    const callback = args[args.length - 1];
    validateFunction(callback, 'cb');
    const error = readOnlyError(name, args);
    Promise.resolve().then(() => callback(error));
  };
  fs.promises[name] = async (...args) => {
    throw readOnlyError(name, args);
  };
}

module.exports = fs;
