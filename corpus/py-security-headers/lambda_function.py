"""Adds the security headers from the pen-test report to every origin response.

Trigger: origin-response (the headers are cached with the object).
Adapted from the AWS blog post "Adding HTTP Security Headers Using Lambda@Edge".
"""

SECURITY_HEADERS = {
    'strict-transport-security': ('Strict-Transport-Security', 'max-age=63072000; includeSubDomains; preload'),
    'content-security-policy': ('Content-Security-Policy', "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'"),
    'x-content-type-options': ('X-Content-Type-Options', 'nosniff'),
    'x-frame-options': ('X-Frame-Options', 'DENY'),
    'x-xss-protection': ('X-XSS-Protection', '1; mode=block'),
    'referrer-policy': ('Referrer-Policy', 'same-origin'),
}

# Headers that tell an attacker what the origin runs (finding #7).
LEAKY_HEADERS = ['server', 'x-powered-by', 'x-amz-meta-server-side-encryption']


def lambda_handler(event, context):
    response = event['Records'][0]['cf']['response']
    headers = response['headers']

    for name, (key, value) in SECURITY_HEADERS.items():
        # Keep an HSTS policy the origin already sets (the API sets a shorter one on purpose).
        if name == 'strict-transport-security' and name in headers:
            continue
        headers[name] = [{'key': key, 'value': value}]

    for name in LEAKY_HEADERS:
        headers.pop(name, None)

    # Only HTML pages need the permissions policy.
    content_type = headers.get('content-type', [{'value': ''}])[0]['value']
    if content_type.lower().startswith('text/html'):
        headers['permissions-policy'] = [{'key': 'Permissions-Policy', 'value': 'camera=(), microphone=(), geolocation=()'}]

    # S3 sometimes answers 404 with the object's long max-age; don't cache misses for a day.
    if response['status'] == '404':
        headers['cache-control'] = [{'key': 'Cache-Control', 'value': 'max-age=10'}]

    return response
