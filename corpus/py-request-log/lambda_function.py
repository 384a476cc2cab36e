"""Structured access log lines from the edge, plus a correlation id for the origin's logs.

Trigger: origin-request. print() goes to CloudWatch Logs in the region nearest the edge.
"""
import json
import uuid

# The correlation id is derived from CloudFront's request id, so retries log the same id.
NAMESPACE = uuid.UUID('6ba7b811-9dad-11d1-80b4-00c04fd430c8')  # uuid.NAMESPACE_URL
SAMPLED_HEADERS = ('user-agent', 'referer', 'cloudfront-viewer-country')


def lambda_handler(event, context):
    cf = event['Records'][0]['cf']
    request = cf['request']
    headers = request['headers']

    correlation_id = str(uuid.uuid5(NAMESPACE, cf['config']['requestId']))
    print('START', cf['config']['eventType'], request['method'], request['uri'])

    entry = {
        'correlationId': correlation_id,
        'clientIp': request['clientIp'],
        'uri': request['uri'],
        'query': request['querystring'] or None,
    }
    for name in SAMPLED_HEADERS:
        if name in headers:
            entry[name] = headers[name][0]['value']
        else:
            print('missing header:', name)
    print(json.dumps(entry, sort_keys=True))

    headers['x-correlation-id'] = [{'key': 'X-Correlation-Id', 'value': correlation_id}]
    print('END', correlation_id)
    return request
