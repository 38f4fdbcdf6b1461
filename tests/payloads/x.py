"""X Account Activity API payloads after the examples of its reference (v1.1 objects)."""

import base64
import hashlib
import hmac

from tests.payloads import encode, post_processed

BRAND_ID = "2244994945"
CUSTOMER_ID = "3001969357"


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def post_x(client, account, payload, *, secret=None, signature=None):
    body = encode(payload)
    signature = signature if signature is not None else sign(secret or account.secret, body)
    headers = {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": signature} if signature else {}
    return post_processed(client, f"/webhooks/x/{account.slug}/", body, **headers)


def user(user_id=CUSTOMER_ID, screen_name="furiouscamper", name="Jordan Brinks", followers=22):
    return {
        "id": int(user_id),
        "id_str": user_id,
        "name": name,
        "screen_name": screen_name,
        "location": "Boulder, CO",
        "url": None,
        "description": "Customer",
        "protected": False,
        "verified": False,
        "followers_count": followers,
        "friends_count": 45,
        "statuses_count": 494,
        "created_at": "Thu Jan 29 18:54:29 +0000 2015",
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/1/a_normal.jpg",
    }


def tweet(
    id_str="1050118621198921728",
    text="@XDevelopers my order never arrived",
    *,
    author=None,
    in_reply_to=None,
    created_at="Wed Oct 10 20:19:24 +0000 2018",
    **extra,
):
    """A tweet; `in_reply_to` is (status id, user id, screen name)."""
    status_id, user_id, screen_name = in_reply_to or (None, None, None)
    return {
        "created_at": created_at,
        "id": int(id_str),
        "id_str": id_str,
        "text": text,
        "source": '<a href="http://twitter.com" rel="nofollow">Twitter Web Client</a>',
        "truncated": False,
        "in_reply_to_status_id": int(status_id) if status_id else None,
        "in_reply_to_status_id_str": status_id,
        "in_reply_to_user_id": int(user_id) if user_id else None,
        "in_reply_to_user_id_str": user_id,
        "in_reply_to_screen_name": screen_name,
        "user": author or user(),
        "geo": None,
        "coordinates": None,
        "place": None,
        "contributors": None,
        "is_quote_status": False,
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []},
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
        "lang": "en",
        "timestamp_ms": "1539202764000",
        **extra,
    }


def tweet_events(*tweets, for_user_id=BRAND_ID):
    return {
        "for_user_id": for_user_id,
        "user_has_blocked": False,
        "tweet_create_events": list(tweets),
    }


def brand_user():
    return user(BRAND_ID, "XDevelopers", "Developers", followers=550000)


def dm_event(
    event_id="954491830116155396",
    text="Hello World!",
    *,
    sender=CUSTOMER_ID,
    recipient=BRAND_ID,
    created_timestamp="1516403560557",
):
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": created_timestamp,
        "message_create": {
            "target": {"recipient_id": recipient},
            "sender_id": sender,
            "source_app_id": "13090192",
            "message_data": {
                "text": text,
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            },
        },
    }


def dm_events(*events, for_user_id=BRAND_ID):
    return {
        "for_user_id": for_user_id,
        "direct_message_events": list(events),
        "apps": {
            "13090192": {
                "id": "13090192",
                "name": "FuriousCamperTestApp1",
                "url": "https://twitter.com/furiouscamper",
            }
        },
        "users": {
            CUSTOMER_ID: {
                "id": CUSTOMER_ID,
                "created_timestamp": "1422556069340",
                "name": "Jordan Brinks",
                "screen_name": "furiouscamper",
                "location": "Boulder, CO",
                "description": "Alter Ego - Twitter PE opinions-are-my-own",
                "url": "https://t.co/SnxaA15ZuY",
                "protected": False,
                "verified": False,
                "followers_count": 22,
                "friends_count": 45,
                "statuses_count": 494,
                "profile_image_url": "null",
                "profile_image_url_https": "https://pbs.twimg.com/profile_images/85/a_normal.jpg",
            },
            BRAND_ID: {
                "id": BRAND_ID,
                "created_timestamp": "1448312972328",
                "name": "Harrison Test",
                "screen_name": "Harris_0ff",
                "location": "Burlington, MA",
                "protected": False,
                "verified": False,
                "followers_count": 8,
                "friends_count": 8,
                "profile_image_url": "null",
                "statuses_count": 240,
                "profile_image_url_https": "https://abs.twimg.com/sticky/default_normal.png",
            },
        },
    }


def other_events():
    """Account Activity events that carry no customer message, one payload each."""
    return {
        "favorite": {
            "for_user_id": BRAND_ID,
            "favorite_events": [
                {
                    "id": "a7ba59eab0bfcba386f7acedac279542",
                    "created_at": "Mon Mar 26 16:33:26 +0000 2018",
                    "timestamp_ms": 1522082006140,
                    "favorited_status": tweet(author=brand_user()),
                    "user": user(),
                }
            ],
        },
        "follow": {
            "for_user_id": BRAND_ID,
            "follow_events": [
                {
                    "type": "follow",
                    "created_timestamp": "1517588749178",
                    "target": brand_user(),
                    "source": user(),
                }
            ],
        },
        "tweet_delete": {
            "for_user_id": BRAND_ID,
            "tweet_delete_events": [
                {
                    "status": {"id": "1045405559317569537", "user_id": CUSTOMER_ID},
                    "timestamp_ms": "1432228155593",
                }
            ],
        },
        "typing": {
            "for_user_id": BRAND_ID,
            "direct_message_indicate_typing_events": [
                {
                    "created_timestamp": "1518127183443",
                    "sender_id": CUSTOMER_ID,
                    "target": {"recipient_id": BRAND_ID},
                }
            ],
            "users": {},
        },
        "mark_read": {
            "for_user_id": BRAND_ID,
            "direct_message_mark_read_events": [
                {
                    "created_timestamp": "1518452444662",
                    "sender_id": CUSTOMER_ID,
                    "target": {"recipient_id": BRAND_ID},
                    "last_read_event_id": "963085315333238788",
                }
            ],
            "users": {},
        },
        "retweet": tweet_events(
            tweet(
                "1100", "RT @XDevelopers: news", retweeted_status=tweet("1000", author=brand_user())
            )
        ),
        "brand_announcement": tweet_events(tweet("1200", "We are live!", author=brand_user())),
    }
