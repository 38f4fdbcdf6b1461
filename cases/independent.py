"""Which messages of a batch can never meet in a case, so they may be filed at once.

A message's case is decided by its customer's cases, by the message it replies to and by
its conversation (`cases.threading`). Messages linked by none of these, directly or through
other messages of the batch, are filed the same whether they are filed together or apart:
a batch splits into parts along those links, and the parts can be filed side by side.
What a part reads of earlier batches was committed before it began.
"""

from collections.abc import Sequence

from inbox.connectors.base import ParsedMessage


def independent_parts(messages: Sequence[ParsedMessage], most: int) -> list[list[int]]:
    """The positions of `messages` in at most `most` parts of about equal size, no two
    linked across parts; each part in the batch's order. Fewer parts when the links leave
    fewer groups."""
    parent: dict[tuple, tuple] = {}

    def root(key: tuple) -> tuple:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]  # halve the path as it is walked
            key = parent[key]
        return key

    def link(a: tuple, b: tuple) -> None:
        parent[root(a)] = root(b)

    customers = []
    for message in messages:
        customer = ("customer", message.channel, message.customer.external_id)
        customers.append(customer)
        link(("message", message.external_id), customer)
        if message.in_reply_to:
            link(("message", message.in_reply_to), customer)
        if message.conversation_id:
            link(("conversation", message.conversation_id), customer)
    groups: dict[tuple, list[int]] = {}
    for position, customer in enumerate(customers):
        groups.setdefault(root(customer), []).append(position)
    parts: list[list[int]] = [[] for _ in range(max(1, min(most, len(groups))))]
    # The largest groups first, each into the smallest part so far: parts of about equal
    # size, whatever the groups' sizes.
    for group in sorted(groups.values(), key=len, reverse=True):
        min(parts, key=len).extend(group)
    for part in parts:
        part.sort()
    return [part for part in parts if part]
