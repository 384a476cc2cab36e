export enum Policy {
  Strict = 'strict',
  Relaxed = 'relaxed',
}

// Numeric, as most enums are: the response carries its reverse mapping.
export enum Level {
  Off,
  Basic,
  Full = 10,
  Max,
}

const COMMON: ReadonlyArray<[string, string]> = [
  ['Strict-Transport-Security', 'max-age=63072000; includeSubDomains; preload'],
  ['X-Content-Type-Options', 'nosniff'],
];

export function headersFor(policy: Policy): Array<[string, string]> {
  const csp = policy === Policy.Strict
    ? "default-src 'self'"
    : "default-src 'self' https://analytics.example.com";
  const level = policy === Policy.Strict ? Level.Max : Level.Basic;
  return [...COMMON, ['Content-Security-Policy', csp], ['X-Policy', policy], ['X-Policy-Level', `${level} ${Level[level]}`]];
}
