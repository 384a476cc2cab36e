"""Answers a few tiny endpoints at the edge instead of at the origin.

Trigger: viewer-request.
  /api/status   JSON health document
  /api/whoami   JSON echo of what the edge saw (for support tickets)
  /robots.txt   disallow everything on the preview distribution
  /favicon.ico  a 1x1 transparent GIF (bodyEncoding base64)
"""
import base64
import json
import time

VERSION = '2025.12.3'

# 1x1 transparent GIF.
PIXEL = base64.b64encode(
    b'GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00'
    b',\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;'
).decode('ascii')


def json_response(document, status='200', description='OK'):
    return {
        'status': status,
        'statusDescription': description,
        'headers': {
            'content-type': [{'key': 'Content-Type', 'value': 'application/json'}],
            'cache-control': [{'key': 'Cache-Control', 'value': 'no-cache'}],
        },
        'body': json.dumps(document),
    }


def header_value(headers, name, default=None):
    values = headers.get(name)
    return values[0]['value'] if values else default


def lambda_handler(event, context):
    cf = event['Records'][0]['cf']
    request = cf['request']
    uri = request['uri']

    if uri == '/api/status':
        return json_response({
            'status': 'ok',
            'version': VERSION,
            'time': int(time.time()),
            'distribution': cf['config']['distributionId'],
        })

    if uri == '/api/whoami':
        headers = request['headers']
        return json_response({
            'ip': request['clientIp'],
            'method': request['method'],
            'userAgent': header_value(headers, 'user-agent'),
            'language': header_value(headers, 'accept-language', 'unknown'),
            'headers': sorted(headers),
            'requestId': cf['config']['requestId'],
        })

    if uri == '/robots.txt':
        return {
            'status': '200',
            'statusDescription': 'OK',
            'headers': {
                'content-type': [{'key': 'Content-Type', 'value': 'text/plain'}],
            },
            'body': 'User-agent: *\nDisallow: /\n',
        }

    if uri == '/favicon.ico':
        return {
            'status': '200',
            'statusDescription': 'OK',
            'headers': {
                'content-type': [{'key': 'Content-Type', 'value': 'image/gif'}],
                'cache-control': [{'key': 'Cache-Control', 'value': 'max-age=31536000'}],
            },
            'body': PIXEL,
            'bodyEncoding': 'base64',
        }

    return request
