"""Expiring signed links for the downloads area.

Trigger: viewer-request. The app signs links as
    /downloads/<file>?expires=<unix seconds>&sig=<hex HMAC-SHA256 of "<uri>:<expires>">
with a shared secret baked in at deploy time. Anything outside /downloads/ is public.
"""
import hashlib
import hmac
import time
from urllib.parse import parse_qs

SECRET = b'5f2b8c1e-downloads-signing-key-2025'
PROTECTED_PREFIX = '/downloads/'


def sign(uri, expires):
    message = ('%s:%s' % (uri, expires)).encode('utf-8')
    return hmac.new(SECRET, message, hashlib.sha256).hexdigest()


def deny(reason):
    return {
        'status': '403',
        'statusDescription': 'Forbidden',
        'headers': {
            'content-type': [{'key': 'Content-Type', 'value': 'text/plain'}],
            'cache-control': [{'key': 'Cache-Control', 'value': 'no-store'}],
        },
        'body': 'Access denied: %s\n' % reason,
    }


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    uri = request['uri']
    if not uri.startswith(PROTECTED_PREFIX):
        return request

    params = parse_qs(request['querystring'])
    expires = params.get('expires', [None])[0]
    signature = params.get('sig', [None])[0]
    if expires is None or signature is None:
        return deny('missing signature')

    try:
        expires_at = int(expires)
    except ValueError:
        return deny('bad expiry')
    if expires_at < time.time():
        return deny('link expired')

    if not hmac.compare_digest(sign(uri, expires), signature.lower()):
        return deny('bad signature')

    # The origin must not see (and cache on) the signature.
    request['querystring'] = ''
    return request
