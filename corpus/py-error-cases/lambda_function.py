"""Multi-tenant router: picks the tenant's bucket prefix from the X-Tenant-Id header that the
customer's own proxy adds.

Trigger: viewer-request. Written in a hurry: several failures are left to raise, and the debug
endpoint returns a datetime that JSON cannot hold (Lambda reports that as a marshal error).
"""
import datetime

TENANTS = {
    'acme': {'prefix': '/t/acme', 'plan': 'pro'},
    'globex': {'prefix': '/t/globex', 'plan': 'free'},
}


class MissingTenantError(Exception):
    pass


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    headers = request['headers']

    if request['uri'].startswith('/admin'):
        raise ValueError('admin endpoints are not served through this distribution')

    if 'x-tenant-id' not in headers:
        raise MissingTenantError('request without X-Tenant-Id for %s' % request['uri'])

    tenant = TENANTS[headers['x-tenant-id'][0]['value']]  # KeyError for unknown tenants

    if request['uri'] == '/_debug':
        return {
            'status': '200',
            'body': 'debug',
            'generatedAt': datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
        }

    request['uri'] = tenant['prefix'] + request['uri']
    headers['x-tenant-plan'] = [{'key': 'X-Tenant-Plan', 'value': tenant['plan']}]
    return request
