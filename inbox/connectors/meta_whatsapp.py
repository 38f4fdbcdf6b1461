"""WhatsApp Cloud API notifications (`object: whatsapp_business_account`).

`messages` from customers become inbound DMs in the conversation of their WhatsApp id;
`statuses` move our outbound messages along (sent, delivered, read, failed);
`smb_message_echoes` (replies typed in the WhatsApp Business app beside the Cloud API)
are outbound. A message without text keeps its caption, or a placeholder such as `[image]`,
so an agent sees that something arrived; reactions and system notices are ignored.
"""

from typing import Any

from inbox.connectors.base import ParsedMessage, ParseResult, PayloadError, StatusUpdate
from inbox.connectors.fields import (
    PERSON_ID_LIMIT,
    array,
    ident,
    label,
    obj,
    optional_ident,
    optional_obj,
    person,
    text,
    timestamp,
)

MEDIA_TYPES = {"image", "video", "audio", "document", "sticker"}
IGNORED_TYPES = {"reaction", "system", "request_welcome", "ephemeral"}
STATUSES = {"sent", "delivered", "read", "failed"}


def parse_whatsapp_entry(account, entry: dict, where: str, result: ParseResult) -> None:
    for j, change in enumerate(array(entry, "changes", where)):
        change_where = f"{where}.changes[{j}]"
        change = obj(change, change_where)
        field = change.get("field")
        if field not in ("messages", "smb_message_echoes"):
            result.ignored += 1
            continue
        value_where = f"{change_where}.value"
        value = obj(change.get("value"), value_where)
        metadata = optional_obj(value, "metadata", value_where)
        business = person(
            metadata.get("phone_number_id") or entry.get("id"),
            f"{value_where}.metadata.phone_number_id",
            handle=metadata.get("display_phone_number", ""),
            name=account.name,
        )
        names = _profile_names(value, value_where)
        found = 0
        for k, message in enumerate(array(value, "messages", value_where)):
            found += 1
            parsed = _parse_message(message, f"{value_where}.messages[{k}]", names, business)
            if parsed is None:
                result.ignored += 1
            else:
                result.messages.append(parsed)
        for k, echo in enumerate(array(value, "message_echoes", value_where)):
            found += 1
            parsed = _parse_echo(echo, f"{value_where}.message_echoes[{k}]", names, business)
            if parsed is None:
                result.ignored += 1
            else:
                result.messages.append(parsed)
        for k, status in enumerate(array(value, "statuses", value_where)):
            found += 1
            update = _parse_status(status, f"{value_where}.statuses[{k}]")
            if update is None:
                result.ignored += 1
            else:
                result.statuses.append(update)
        if not found:  # e.g. an `errors` notice
            result.ignored += 1


def _profile_names(value: dict, where: str) -> dict[str, str]:
    names = {}
    for k, contact in enumerate(array(value, "contacts", where)):
        contact = obj(contact, f"{where}.contacts[{k}]")
        wa_id = optional_ident(contact.get("wa_id"), f"{where}.contacts[{k}].wa_id")
        profile = contact.get("profile")
        if wa_id and isinstance(profile, dict):
            names[wa_id] = label(profile.get("name"))
    return names


def _content(message: dict, kind: str, where: str) -> str:
    """The text an agent reads for one message of any type."""
    if kind == "text":
        return text(optional_obj(message, "text", where).get("body"), f"{where}.text.body")
    if kind in MEDIA_TYPES:
        media = optional_obj(message, kind, where)
        caption = text(media.get("caption"), f"{where}.{kind}.caption")
        return caption or f"[{kind}]"
    if kind == "interactive":
        interactive = optional_obj(message, "interactive", where)
        for reply in ("button_reply", "list_reply"):
            chosen = interactive.get(reply)
            if isinstance(chosen, dict) and chosen.get("title") is not None:
                return text(chosen.get("title"), f"{where}.interactive.{reply}.title")
        return "[interactive]"
    if kind == "button":  # a quick-reply button of a template
        button = optional_obj(message, "button", where)
        return text(button.get("text"), f"{where}.button.text") or "[button]"
    if kind == "location":
        place = optional_obj(message, "location", where)
        name = label(place.get("name")) or label(place.get("address"))
        return f"[location] {name}" if name else "[location]"
    return f"[{label(kind, 32) or 'unsupported'}]"


def _parse_message(message: Any, where: str, names: dict, business) -> ParsedMessage | None:
    message = obj(message, where)
    kind = message.get("type", "text")
    if not isinstance(kind, str):
        raise PayloadError(f"{where}.type must be a string")
    if kind in IGNORED_TYPES:
        return None
    sender = ident(message.get("from"), f"{where}.from", limit=PERSON_ID_LIMIT)
    customer = person(sender, f"{where}.from", name=names.get(sender, ""))
    context = optional_obj(message, "context", where)
    return ParsedMessage(
        external_id=ident(message.get("id"), f"{where}.id"),
        channel="whatsapp",
        direction="in",
        kind="dm",
        is_public=False,
        text=_content(message, kind, where),
        author=customer,
        customer=customer,
        created_at=timestamp(message.get("timestamp"), f"{where}.timestamp"),
        in_reply_to=optional_ident(context.get("id"), f"{where}.context.id"),
        conversation_id=customer.external_id,
        raw=message,
    )


def _parse_echo(echo: Any, where: str, names: dict, business) -> ParsedMessage | None:
    echo = obj(echo, where)
    kind = echo.get("type", "text")
    if not isinstance(kind, str):
        raise PayloadError(f"{where}.type must be a string")
    if kind in IGNORED_TYPES:
        return None
    to = ident(echo.get("to"), f"{where}.to", limit=PERSON_ID_LIMIT)
    customer = person(to, f"{where}.to", name=names.get(to, ""))
    context = optional_obj(echo, "context", where)
    return ParsedMessage(
        external_id=ident(echo.get("id"), f"{where}.id"),
        channel="whatsapp",
        direction="out",
        kind="dm",
        is_public=False,
        text=_content(echo, kind, where),
        author=business,
        customer=customer,
        created_at=timestamp(echo.get("timestamp"), f"{where}.timestamp"),
        in_reply_to=optional_ident(context.get("id"), f"{where}.context.id"),
        conversation_id=customer.external_id,
        raw=echo,
    )


def _parse_status(status: Any, where: str) -> StatusUpdate | None:
    status = obj(status, where)
    external_id = ident(status.get("id"), f"{where}.id")
    state = status.get("status")
    if not isinstance(state, str) or state not in STATUSES:
        return None
    at = status.get("timestamp")
    return StatusUpdate(
        external_id=external_id,
        status=state,
        at=timestamp(at, f"{where}.timestamp") if at is not None else None,
        error=_errors(status, where),
    )


def _errors(status: dict, where: str) -> str:
    """`131047 Re-engagement message: more than 24 hours have passed ...` per error."""
    lines = []
    for k, error in enumerate(array(status, "errors", where)):
        error = obj(error, f"{where}.errors[{k}]")
        details = error.get("error_data")
        details = details.get("details") if isinstance(details, dict) else None
        parts = [label(error.get("code"), 20), label(error.get("title"), 500)]
        line = " ".join(p for p in parts if p)
        if isinstance(details, str) and details:
            line = f"{line}: {label(details, 1000)}" if line else label(details, 1000)
        lines.append(line or "failed")
    return "\n".join(lines)
