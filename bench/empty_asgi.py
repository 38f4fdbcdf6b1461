"""The floor of bench/webhook_load.py: an ASGI app that reads the body and answers 200 with a
small JSON object, served by the same server with the same process count as caremgr."""


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"status": "stored", "delivery": 0}'})
