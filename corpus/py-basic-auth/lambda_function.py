"""HTTP basic auth in front of the staging site.

Trigger: viewer-request. The credentials are baked in at deploy time (no env vars at the edge).
"""
import base64
import binascii

USERS = {
    'staging': 'n0t-s3cr3t!',
    'qa': 'löwenzahn',
}

UNAUTHORIZED = {
    'status': '401',
    'statusDescription': 'Unauthorized',
    'headers': {
        'www-authenticate': [{'key': 'WWW-Authenticate', 'value': 'Basic realm="staging", charset="UTF-8"'}],
        'content-type': [{'key': 'Content-Type', 'value': 'text/plain'}],
    },
    'body': 'Unauthorized',
}


def parse_basic(value):
    """Returns (user, password) from an Authorization header value, or None."""
    scheme, _, encoded = value.partition(' ')
    if scheme.lower() != 'basic' or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode('utf-8')
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ':' not in decoded:
        return None
    user, _, password = decoded.partition(':')
    return user, password


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    headers = request['headers']

    auth = headers.get('authorization')
    credentials = parse_basic(auth[0]['value']) if auth else None
    if credentials is None or USERS.get(credentials[0]) != credentials[1]:
        return UNAUTHORIZED

    # Don't pass the credentials on to the origin.
    del headers['authorization']
    headers['x-staging-user'] = [{'key': 'X-Staging-User', 'value': credentials[0]}]
    return request
