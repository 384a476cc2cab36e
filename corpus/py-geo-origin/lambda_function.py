"""Send viewers to the nearest regional origin, by CloudFront-Viewer-Country.

Trigger: origin-request (the country header only exists in origin events; it must be in the
cache policy / whitelist). Unknown countries and requests without the header stay on the
default origin of the behaviour.
"""

REGION_ORIGINS = {
    'eu': 'eu.origin.example.com',
    'ap': 'ap.origin.example.com',
    'us': 'us.origin.example.com',
}

COUNTRY_REGIONS = {
    'DE': 'eu', 'FR': 'eu', 'NL': 'eu', 'IE': 'eu', 'GB': 'eu',
    'JP': 'ap', 'SG': 'ap', 'AU': 'ap', 'IN': 'ap',
    'US': 'us', 'CA': 'us', 'MX': 'us',
}


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    headers = request['headers']

    country_header = headers.get('cloudfront-viewer-country')
    if not country_header:
        return request

    country = country_header[0]['value'].upper()
    region = COUNTRY_REGIONS.get(country)
    if region is None:
        return request

    domain = REGION_ORIGINS[region]
    request['origin'] = {
        'custom': {
            'domainName': domain,
            'port': 443,
            'protocol': 'https',
            'path': '',
            'sslProtocols': ['TLSv1.2'],
            'readTimeout': 30,
            'keepaliveTimeout': 5,
            'customHeaders': {
                'x-origin-region': [{'key': 'X-Origin-Region', 'value': region}],
            },
        }
    }
    # The regional ALBs route on Host, so it must match the new origin.
    headers['host'] = [{'key': 'Host', 'value': domain}]
    return request
