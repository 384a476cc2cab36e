"""Signed session cookies with itsdangerous, vendored beside the handler by
`pip install -r requirements.txt --target .` as in the deployment package.

Visitors without a session get a signed guest token; a valid token forwards
the user to the origin; an expired or tampered one is refused.
Trigger: viewer-request
"""
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SERIALIZER = URLSafeTimedSerializer("edge-session-secret", salt="session")
MAX_AGE = 3600


def cookies(headers):
    merged = "; ".join(h["value"] for h in headers.get("cookie", []))
    pairs = (part.strip().split("=", 1) for part in merged.split(";") if "=" in part)
    return {name: value for name, value in pairs}


def lambda_handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    token = cookies(request["headers"]).get("session")
    if token is None:
        guest = SERIALIZER.dumps({"user": "guest", "roles": []})
        return {
            "status": "302",
            "statusDescription": "Found",
            "headers": {
                "location": [{"key": "Location", "value": request["uri"]}],
                "set-cookie": [{"key": "Set-Cookie", "value": f"session={guest}; Path=/; Secure; HttpOnly"}],
            },
        }
    try:
        data = SERIALIZER.loads(token, max_age=MAX_AGE)
    except SignatureExpired as error:
        return {"status": "401", "statusDescription": "Unauthorized", "body": f"session expired: {error}"}
    except BadSignature as error:
        return {"status": "403", "statusDescription": "Forbidden", "body": f"bad session: {error}"}
    request["headers"]["x-user"] = [{"key": "X-User", "value": data["user"]}]
    request["headers"]["x-roles"] = [{"key": "X-Roles", "value": ",".join(data.get("roles", []))}]
    return request
