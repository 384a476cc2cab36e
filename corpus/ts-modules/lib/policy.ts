export const Policy = {
  Strict: 'strict',
  Relaxed: 'relaxed',
} as const;

export type Policy = (typeof Policy)[keyof typeof Policy];

const COMMON: ReadonlyArray<[string, string]> = [
  ['Strict-Transport-Security', 'max-age=63072000; includeSubDomains; preload'],
  ['X-Content-Type-Options', 'nosniff'],
];

export function headersFor(policy: Policy): Array<[string, string]> {
  const csp = policy === Policy.Strict
    ? "default-src 'self'"
    : "default-src 'self' https://analytics.example.com";
  return [...COMMON, ['Content-Security-Policy', csp], ['X-Policy', policy]];
}
