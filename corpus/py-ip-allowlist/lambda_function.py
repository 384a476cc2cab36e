"""Only the offices and the VPN may reach the internal docs.

Trigger: viewer-request. Everyone else gets a 403 page generated at the edge.
"""
import ipaddress

ALLOWED_NETWORKS = [
    ipaddress.ip_network('198.51.100.0/24'),    # Berlin office
    ipaddress.ip_network('203.0.113.64/26'),    # VPN egress
    ipaddress.ip_network('192.0.2.10/32'),      # CI runner
    ipaddress.ip_network('2001:db8:1234::/48'),  # Berlin office, IPv6
]

# Health checks from the monitoring vendor may see /healthz only.
PUBLIC_PATHS = ('/healthz',)

FORBIDDEN_BODY = """<!DOCTYPE html>
<html>
<head><title>403 Forbidden</title></head>
<body>
<h1>Forbidden</h1>
<p>Your address ({ip}) is not allowed to access this site.</p>
</body>
</html>
"""


def is_allowed(client_ip):
    address = ipaddress.ip_address(client_ip)
    return any(address in network for network in ALLOWED_NETWORKS)


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']

    if request['uri'] in PUBLIC_PATHS or is_allowed(request['clientIp']):
        return request

    return {
        'status': '403',
        'statusDescription': 'Forbidden',
        'headers': {
            'content-type': [{'key': 'Content-Type', 'value': 'text/html; charset=utf-8'}],
            'cache-control': [{'key': 'Cache-Control', 'value': 'no-store'}],
        },
        'body': FORBIDDEN_BODY.format(ip=request['clientIp']),
    }
