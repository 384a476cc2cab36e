'use strict';

// Exact paths and trailing-wildcard prefixes, checked in file order.
exports.compileRules = (rules) =>
  rules.map(({ from, to }) => (from.endsWith('*') ? { prefix: from.slice(0, -1), to } : { exact: from, to }));

exports.findRedirect = (rules, uri) => {
  for (const rule of rules) {
    if (rule.exact !== undefined ? uri === rule.exact : uri.startsWith(rule.prefix)) return rule.to;
  }
  return null;
};
